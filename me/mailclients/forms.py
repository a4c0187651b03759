from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.mailclients.models import NAME_MAX_LENGTH


class MailClientPasswordForm(forms.Form):
    name = forms.CharField(
        label=_("Mail client"), max_length=NAME_MAX_LENGTH * 2, strip=True, required=False,
        help_text=_("Which client this password is for, so you know which to revoke later."),
        widget=forms.TextInput(attrs={"placeholder": _("Outlook on my laptop"), "autocomplete": "off"}),
    )
