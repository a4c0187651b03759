from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class ResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "username",
                                                            "autofocus": True}))


class ResetPasswordForm(forms.Form):
    new_password = forms.CharField(label=_("New password"), strip=False, max_length=4096,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password",
                                                                     "autofocus": True}))
    confirm_password = forms.CharField(label=_("Repeat the new password"), strip=False,
                                       max_length=4096,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    sign_out_mail_clients = forms.BooleanField(
        label=_("Someone else may know my password: also revoke my mail apps' passwords"),
        required=False,
        help_text=_("Your mail apps (Outlook, phone mail…) then stop working until you create new "
                    "passwords for them on My security."))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("confirm_password") != data["new_password"]:
            self.add_error("confirm_password", forms.ValidationError(
                _("The two passwords differ."), code="password_mismatch"))
        return data
