"""The session policy form; it only shapes input, the service decides and validates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from security.policies.sessions.rules import IDLE_MAX, IDLE_MIN, LIFETIME_MAX, LIFETIME_MIN


class SessionPolicyForm(forms.Form):
    idle_timeout_minutes = forms.IntegerField(
        label=_("Idle timeout in minutes"), min_value=IDLE_MIN, max_value=IDLE_MAX)
    absolute_lifetime_hours = forms.IntegerField(
        label=_("Maximum session length in hours"), min_value=LIFETIME_MIN, max_value=LIFETIME_MAX)
