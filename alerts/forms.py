"""Forms of the alerts pages: the list's filters, triage actions, bulk actions, rule settings."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User, normalize_email
from alerts.models import AlertStatus, ModeChoices, SeverityChoices, TrustKind
from alerts.rules import RULES
from alerts.selectors import STATUS_UNRESOLVED, AlertFilters, rule_title
from alerts.services import BULK_ACTIONS, BULK_MAX, NOTE_MAX_LENGTH
from tenants.models import Tenant


def rule_choices() -> list[tuple[str, str]]:
    return [(code, rule_title(code)) for code in [*RULES, "this_wasnt_me"]]


def _day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo(tz)).astimezone(UTC)


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[])
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=[("", _("Any")), *SeverityChoices.choices])
    rule = forms.ChoiceField(label=_("Rule"), required=False, choices=[])
    person = forms.CharField(label=_("Person"), required=False, max_length=254,
                             widget=forms.TextInput(attrs={"placeholder": _("e-mail address")}))
    mode = forms.ChoiceField(label=_("Mode"), required=False,
                             choices=[(ModeChoices.ALERT, _("Alerts")),
                                      (ModeChoices.RECORD, _("Record only"))])
    date_from = forms.DateField(label=_("Last seen from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("to"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, tenant: Tenant, tz: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        status = self.fields["status"]
        rule = self.fields["rule"]
        assert isinstance(status, forms.ChoiceField) and isinstance(rule, forms.ChoiceField)
        status.choices = [(STATUS_UNRESOLVED, _("Open or acknowledged")),
                                         *AlertStatus.choices, ("any", _("Any status"))]
        rule.choices = [("", _("Any rule")), *rule_choices()]
        self.tenant = tenant

    def clean_person(self) -> User | None:
        """A person of this tenant by e-mail address (or by id, as the person page links)."""
        value = (self.cleaned_data.get("person") or "").strip()
        if not value:
            return None
        people = User.objects.for_tenant(self.tenant)
        if value.isdigit() and len(value) < 12:
            person = people.filter(pk=int(value)).first()
        else:
            person = people.filter(email=normalize_email(value)).first()
        if person is None:
            raise ValidationError(_("Nobody in your organisation has that address."),
                                  code="person")
        return person

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            data["date_from"], data["date_to"] = end, start
        for key in ("date_from", "date_to"):
            day = data.get(key)
            if day is not None and not 2000 <= day.year <= 2999:
                self.add_error(key, _("Enter a date between the years 2000 and 2999."))
        return data

    def filters(self) -> AlertFilters:
        """The filters in force: the valid fields' values, the defaults for the rest."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        status = data.get("status") or STATUS_UNRESOLVED
        start, end = data.get("date_from"), data.get("date_to")
        person = data.get("person")
        return AlertFilters(
            status="" if status == "any" else status,
            severity=data.get("severity") or "",
            rule=data.get("rule") or "",
            person=person.pk if person is not None else None,
            mode=data.get("mode") or ModeChoices.ALERT,
            starts_at=_day_start(start, self.tz) if start and "date_from" not in self.errors else None,
            ends_before=(_day_start(end + timedelta(days=1), self.tz)
                         if end and "date_to" not in self.errors else None),
        )


class NoteField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH,
                         widget=forms.Textarea(attrs={"rows": 3}), **kwargs)


ACTIONS = [
    ("acknowledge", _("Acknowledge")),
    ("resolve", _("Resolve")),
    ("false_positive", _("Mark false positive")),
    ("assign", _("Assign")),
    ("note", _("Add note")),
    ("secure", _("Secure the account")),
]


class AlertActionForm(forms.Form):
    """One triage action from the detail page."""

    action = forms.ChoiceField(choices=ACTIONS)
    note = NoteField()
    assignee: forms.ModelChoiceField[User] = forms.ModelChoiceField(label=_("Assign to"), required=False,
                                      queryset=None, empty_label=_("Nobody"))
    trust_network = forms.BooleanField(label=_("Trust this network for this person"),
                                       required=False)
    trust_device = forms.BooleanField(label=_("Trust this device for this person"), required=False)
    trust_country = forms.BooleanField(label=_("Trust this country for this person"),
                                       required=False)

    def __init__(self, *args: Any, assignees: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = assignees

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == "note" and not (data.get("note") or "").strip():
            self.add_error("note", _("Write the note first."))
        trusting = any(data.get(f"trust_{kind}") for kind in TrustKind.values)
        if trusting and action not in ("resolve", "false_positive"):
            raise ValidationError(_("Trust can be given only when resolving or marking a false "
                                    "positive."))
        return data


class BulkForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=[(key, label) for key, label in ACTIONS
                                                           if key in BULK_ACTIONS])
    alerts = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    note = NoteField()
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["alerts"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(pk, str(pk)) for pk in ids]
        field.error_messages["required"] = _("Select at least one alert.")

    def clean_alerts(self) -> list[int]:
        ids = self.cleaned_data["alerts"]
        if len(ids) > BULK_MAX:
            raise ValidationError(_("At most %(n)d alerts can be changed at once.") % {"n": BULK_MAX})
        return ids


def _posted_ids(data: Any) -> list[int]:
    ids = []
    for value in data.getlist("alerts")[: BULK_MAX + 1]:
        if isinstance(value, str) and value.isdigit() and len(value) < 12:
            ids.append(int(value))
    return ids


class RuleSettingForm(forms.Form):
    """One rule's settings; its thresholds are fields built from the module's PARAM_FIELDS."""

    enabled = forms.BooleanField(label=_("On"), required=False)
    mode = forms.ChoiceField(label=_("Mode"), choices=ModeChoices.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=SeverityChoices.choices)

    def __init__(self, *args: Any, rule: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.param_names: list[str] = []
        for name, (label, kind, help_text) in RULES[rule].PARAM_FIELDS.items():
            field: forms.Field
            if kind == "int":
                field = forms.IntegerField(label=label, help_text=help_text, required=False)
            elif kind == "time":
                field = forms.CharField(label=label, help_text=help_text, required=False,
                                        max_length=5, widget=forms.TimeInput(attrs={"type": "time"}))
            elif kind == "bool":
                field = forms.BooleanField(label=label, help_text=help_text, required=False)
            else:
                field = forms.CharField(label=label, help_text=help_text, required=False,
                                        max_length=200)
            self.fields[f"p_{name}"] = field
            self.param_names.append(name)

    def params(self) -> dict[str, object]:
        data = self.cleaned_data
        out: dict[str, object] = {}
        for name in self.param_names:
            value = data.get(f"p_{name}")
            if value is None or value == "":
                kind = RULES[self.rule].PARAM_FIELDS[name][1]
                if kind == "bool":
                    value = False
                elif kind == "str":  # a text param is a list that may be empty (its default)
                    value = ""
                else:
                    self.add_error(f"p_{name}", _("Enter a value."))
                    continue
            out[name] = value
        return out

    def add_param_errors(self, exc: ValidationError) -> None:
        """The rule's own ``params_from`` errors, each under its field."""
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                key = f"p_{name}" if name in self.param_names else (
                    name if name in self.fields else None)
                for error in errors:
                    self.add_error(key, error)
        else:
            self.add_error(None, exc)

    @property
    def param_bound_fields(self) -> list[forms.BoundField]:
        return [self[f"p_{name}"] for name in self.param_names]


class DigestForm(forms.Form):
    digest = forms.BooleanField(label=_("Send me the daily alerts digest"), required=False)


__all__ = ["AlertActionForm", "AlertFilterForm", "BulkForm", "DigestForm", "RuleSettingForm",
           "_posted_ids"]
