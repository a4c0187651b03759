"""What the access-policy forms (network allowlist, sign-in hours) share.

The forms only translate what a person types into the lists the services take, and run the same
pure validation so errors sit next to the field; the services validate again and stay the
authority.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from security.policies.base import Mode


class ModePolicyForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=Mode.choices)
    confirm_self_lockout = forms.BooleanField(
        label=gettext_lazy("I understand that I may lock myself out; save anyway"), required=False)
