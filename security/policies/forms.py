"""What the access-policy forms (network allowlist, sign-in hours) share.

The forms only translate what a person types into the lists the services take, and run the same
pure validation so errors sit next to the field; the services validate again and stay the
authority.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from security.policies.base import Channels, Mode


class ModePolicyForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=Mode.choices)
    channels = forms.ChoiceField(
        label=gettext_lazy("Sign-ins covered"), choices=Channels.choices, required=False,
        help_text=gettext_lazy("Mail clients are Outlook, Foxmail, Apple Mail and phones signing in over "
                               "IMAP, POP3 or SMTP submission."))
    confirm_self_lockout = forms.BooleanField(
        label=gettext_lazy("I understand that I may lock myself out; save anyway"), required=False)

    def clean_channels(self) -> str:
        # A form posted without the field (a page from before it existed) keeps what is saved.
        return str(self.cleaned_data.get("channels") or self.initial.get("channels") or Channels.BOTH)
