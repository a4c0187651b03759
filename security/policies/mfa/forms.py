"""The MFA policy form; it only shapes input, the service decides and validates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from security.policies.mfa.rules import GRACE_MAX_DAYS, MfaRequirement


class MfaPolicyForm(forms.Form):
    requirement = forms.ChoiceField(label=_("Two-step sign-in"),
                                    choices=MfaRequirement.choices, widget=forms.RadioSelect)
    grace_days = forms.IntegerField(
        label=_("Grace period in days"), min_value=0, max_value=GRACE_MAX_DAYS,
        help_text=_("When you raise the requirement, people without a device may still sign in "
                    "this many days, with a reminder; then they must enrol."))
