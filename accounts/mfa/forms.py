"""Forms for MFA codes; ``MfaCodeForm`` is shared with the sign-in pipeline's verify page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.mfa.models import normalize_backup_code, normalize_totp_code


class MfaCodeForm(forms.Form):
    """One code: 6 digits from the authenticator app, or (if allowed) a backup code.

    The format is checked here so that garbage gets a clear message and never reaches a device
    lock; whether the code is right is the service's business (``mfa_verify``).
    """

    code = forms.CharField(
        label=_("Code"), max_length=64,
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false",
            "autofocus": True, "size": 14,
        }),
    )

    def __init__(self, *args: Any, allow_backup_codes: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_backup_codes = allow_backup_codes
        if allow_backup_codes:
            self.fields["code"].help_text = _(
                "The 6-digit code from your authenticator app, or one of your backup codes."
            )
        else:
            self.fields["code"].widget.attrs["inputmode"] = "numeric"
            self.fields["code"].help_text = _("The 6-digit code from your authenticator app.")

    def clean_code(self) -> str:
        value = self.cleaned_data["code"]
        if normalize_totp_code(value) is not None:
            return value
        if self.allow_backup_codes and normalize_backup_code(value) is not None:
            return value
        if self.allow_backup_codes:
            raise forms.ValidationError(
                _("Enter the 6-digit code from your app, or a backup code such as abcde-fghjk."),
                code="code_format",
            )
        raise forms.ValidationError(_("Enter the 6-digit code shown by your authenticator app."),
                                    code="code_format")


class TotpEnrollForm(MfaCodeForm):
    """Confirms a new authenticator: its name, the current code, and the enrolment step token."""

    name = forms.CharField(label=_("Name (optional)"), max_length=64, required=False,
                           help_text=_("For example: work phone."))
    step = forms.CharField(widget=forms.HiddenInput, max_length=200)

    field_order = ["name", "code", "step"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_backup_codes"] = False
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.pop("autofocus", None)
        self.fields["step"].error_messages["required"] = _(
            "This enrolment step is not valid any more. Start again."
        )


class MfaConfirmForm(forms.Form):
    """Re-enter the password (or a code) before changing MFA devices."""

    secret = forms.CharField(
        label=_("Password or authentication code"), strip=False, max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class PasskeyNameForm(forms.Form):
    """The name a new passkey is listed under; the browser creates the passkey itself."""

    name = forms.CharField(label=_("Name (optional)"), max_length=64, required=False,
                           help_text=_("For example: work laptop, or security key."))

    def clean_name(self) -> str:
        value = " ".join(self.cleaned_data["name"].split())
        if any(ord(ch) < 32 for ch in value):
            raise forms.ValidationError(_("Use letters, digits and spaces."), code="name_invalid")
        return value
