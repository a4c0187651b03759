"""The lockout policy form; it only shapes input, the service decides and validates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from security.policies.lockout.rules import (
    CEILING_HOURS_MAX,
    CEILING_HOURS_MIN,
    CEILING_MAX,
    CEILING_MIN,
    COOLOFF_MAX,
    COOLOFF_MIN,
    FAILURE_LIMIT_MAX,
    FAILURE_LIMIT_MIN,
)


class LockoutPolicyForm(forms.Form):
    failure_limit = forms.IntegerField(
        label=_("Failed attempts before lockout"), min_value=FAILURE_LIMIT_MIN, max_value=FAILURE_LIMIT_MAX)
    cooloff_minutes = forms.IntegerField(
        label=_("Lockout duration in minutes"), min_value=COOLOFF_MIN, max_value=COOLOFF_MAX,
        help_text=_("A locked account unlocks by itself after this time; helpdesk can unlock it sooner."))
    account_ceiling = forms.IntegerField(
        label=_("Failed attempts per account, from all addresses"), min_value=CEILING_MIN,
        max_value=CEILING_MAX,
        help_text=_("Once an account reaches this many failed sign-ins within the window below, "
                    "from whatever addresses, only browsers the person has signed in from before "
                    "may still try. Stops guessing spread over many addresses."))
    ceiling_hours = forms.IntegerField(
        label=_("Window for the per-account limit, in hours"), min_value=CEILING_HOURS_MIN,
        max_value=CEILING_HOURS_MAX,
        help_text=_("Failures older than this no longer count; the limit lifts by itself."))
