"""The lockout policy form; it only shapes input, the service decides and validates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from security.policies.lockout.rules import (
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
