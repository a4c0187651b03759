from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from people.offboarding.services import REASON_MAX_LENGTH

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class OffboardForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=REASON_MAX_LENGTH,
        help_text=_("Kept in the audit trail, for example \u201cLeft the company on 30 June\u201d."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why this person is being offboarded.")},
    )
    effective_at = forms.DateTimeField(
        label=_("Offboard on (optional)"), required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("Leave empty to offboard now. A later date and time (in your time zone) is "
                    "carried out automatically within minutes of it."),
        error_messages={"invalid": _("Enter a date and time, such as 2026-06-30 18:00.")},
    )
