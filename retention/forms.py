"""The retention pages' forms. They shape input and say early what the services would refuse
(the bounds come from the same settings); ``retention.services`` decides and validates again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from retention.services import HOLD_MAX_DAYS, HOLD_MAX_YEARS, REASON_MAX_LENGTH

DAYS_MAX = 100_000  # far past every ceiling: only keeps absurd numbers out of the arithmetic


class RetentionPolicyForm(forms.Form):
    visible_days = forms.IntegerField(
        label=gettext_lazy("Visible in logs and exports for (days)"), min_value=1,
        max_value=DAYS_MAX,
        help_text=gettext_lazy("After this, records wait in a grey zone, hidden from every page "
                               "and export; only owners and auditors can open them, and that is "
                               "recorded."))
    purge_days = forms.IntegerField(
        label=gettext_lazy("Deleted for good after (days)"), min_value=1, max_value=DAYS_MAX)
    audit_days = forms.IntegerField(
        label=gettext_lazy("Audit trail kept for (days)"), min_value=1, max_value=DAYS_MAX)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        floor, ceiling = settings.RETENTION_MIN_PURGE_DAYS, settings.RETENTION_MAX_PURGE_DAYS
        self.fields["purge_days"].help_text = _(
            "Sign-in and export events, sessions and other personal records are deleted after "
            "this many days (%(low)d to %(high)d); only the daily totals of the reports remain."
        ) % {"low": floor, "high": ceiling}
        self.fields["audit_days"].help_text = _(
            "At least %(low)d days.") % {"low": settings.RETENTION_MIN_AUDIT_DAYS}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        visible, purge, audit = (data.get("visible_days"), data.get("purge_days"),
                                 data.get("audit_days"))
        floor, ceiling = settings.RETENTION_MIN_PURGE_DAYS, settings.RETENTION_MAX_PURGE_DAYS
        if purge is not None and not floor <= purge <= ceiling:
            self.add_error("purge_days", _("Records must be deleted after %(low)d to %(high)d "
                                           "days.") % {"low": floor, "high": ceiling})
            purge = None
        if audit is not None and audit < settings.RETENTION_MIN_AUDIT_DAYS:
            self.add_error("audit_days", _("The audit trail must be kept at least %(low)d days.")
                           % {"low": settings.RETENTION_MIN_AUDIT_DAYS})
        if visible is not None and purge is not None and visible > purge:
            self.add_error("visible_days", _("Records cannot stay visible longer than they are "
                                             "kept (%(days)d days).") % {"days": purge})
        return data


def _today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


class _EndsOnField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"})

    def clean(self, value: Any) -> Any:
        day = super().clean(value)
        if day is None:
            return day
        today = _today()
        if day < today:
            raise forms.ValidationError(_("A hold cannot end in the past."))
        if day > today + dt.timedelta(days=HOLD_MAX_DAYS):
            raise forms.ValidationError(_("A hold can last at most %(years)d years.")
                                        % {"years": HOLD_MAX_YEARS})
        return day


class _PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        person: User = obj
        if person.display_name:
            return f"{person.display_name} <{person.email}>"
        return person.email


class LegalHoldForm(forms.Form):
    person = _PersonChoiceField(
        queryset=None, required=False,  # set per request: the tenant's own people
        label=gettext_lazy("Whose records"),
        empty_label=gettext_lazy("The whole company"),
        help_text=gettext_lazy("A hold on the whole company keeps everyone's records."))
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("For example the case or request this hold serves. Recorded in "
                               "the audit trail."))
    ends_on = _EndsOnField(
        label=gettext_lazy("Ends on"),
        help_text=gettext_lazy("The hold lifts itself after this day (UTC); you can extend it."))

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        person_field = self.fields["person"]
        assert isinstance(person_field, forms.ModelChoiceField)
        person_field.queryset = people  # the tenant's own people only: another id is invalid


class HoldExtendForm(forms.Form):
    ends_on = _EndsOnField(label=gettext_lazy("New end date"))
