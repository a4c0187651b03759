"""The password policy form; it only shapes input, the service decides and validates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from security.policies.password import rules as password


class PasswordPolicyForm(forms.Form):
    profile = forms.ChoiceField(label=_("Profile"), choices=password.PasswordProfile.choices,
                                widget=forms.RadioSelect)
    on_noncompliant = forms.ChoiceField(
        label=_("When a password no longer meets the policy"), choices=password.NonCompliance.choices,
        help_text=_("Checked at every sign-in against the password the person typed."))
    min_length = forms.IntegerField(
        label=_("Minimum length"), required=False, min_value=password.MIN_LENGTH_FLOOR,
        max_value=password.MIN_LENGTH_CEILING, help_text=_("Custom profile only."))
    max_length = forms.IntegerField(
        label=_("Maximum length"), required=False, min_value=password.MAX_LENGTH_FLOOR,
        max_value=password.MAX_LENGTH_CEILING,
        help_text=_("Custom profile only. At least 64, so passphrases fit."))
    require_upper = forms.BooleanField(label=_("Require an upper-case letter"), required=False)
    require_lower = forms.BooleanField(label=_("Require a lower-case letter"), required=False)
    require_digit = forms.BooleanField(label=_("Require a digit"), required=False)
    require_symbol = forms.BooleanField(label=_("Require a symbol"), required=False)
    history_count = forms.IntegerField(
        label=_("Previous passwords refused"), required=False, min_value=0,
        max_value=password.HISTORY_MAX)
    expiry_days = forms.IntegerField(
        label=_("Expiry in days"), required=False, min_value=0, max_value=password.EXPIRY_MAX_DAYS,
        help_text=_("0: passwords never expire (NIST recommends no expiry)."))

    def clean(self) -> dict:
        data = super().clean() or {}
        for name in ("history_count", "expiry_days"):
            if data.get(name) is None and name not in self.errors:
                data[name] = 0
        if data.get("profile") == password.PasswordProfile.CUSTOM:
            for name in ("min_length", "max_length"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Required for a custom profile."))
        return data
