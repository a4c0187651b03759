"""Forms of the access-policy pages: text in, the services' argument shapes out.

The forms only translate what a person types (one allowlist entry per line, one line of time
ranges per weekday) into the lists the services take, and run the same pure validation so
errors sit next to the field; the services validate again and stay the authority.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from security.policies import hours, network
from security.policies.base import Mode

# Generous for real lists (1,000 entries with labels), small enough that a pasted blob is an
# error message rather than work.
ENTRIES_MAX_LENGTH = 60_000
DAY_MAX_LENGTH = 400

DAY_FIELDS = [f"day_{day}" for day in range(7)]


class _PolicyForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=Mode.choices)
    confirm_self_lockout = forms.BooleanField(
        label=gettext_lazy("I understand that I may lock myself out; save anyway"), required=False)


class NetworkPolicyForm(_PolicyForm):
    entries = forms.CharField(
        label=gettext_lazy("Allowed networks"), required=False, max_length=ENTRIES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 60, "spellcheck": "false"}),
        help_text=gettext_lazy("One per line: a network such as 192.0.2.0/24 or 2001:db8::/32 (or a single "
                               "address), then an optional label. Lines starting with # are ignored."))
    scope = forms.ChoiceField(label=gettext_lazy("Applies to"), choices=network.NetworkScope.choices)

    field_order = ["entries", "mode", "scope", "confirm_self_lockout"]

    @staticmethod
    def entries_text(rows: list[network.NetworkAllowEntry]) -> str:
        return "\n".join(f"{row.cidr} {row.label}".strip() for row in rows)

    def clean_entries(self) -> list[tuple[str, str]]:
        parsed: list[tuple[str, str]] = []
        for line in self.cleaned_data["entries"].splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cidr, *label = line.split(None, 1)
            parsed.append((cidr, label[0].strip() if label else ""))
        if len(parsed) > network.MAX_ENTRIES:
            raise ValidationError(_("An allowlist holds at most %(max)d entries."), code="too_many",
                                  params={"max": network.MAX_ENTRIES})
        return parsed

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "entries" in data and "mode" in data:
            try:
                network.network_entries_clean(data["entries"], mode=data["mode"])
            except ValidationError as exc:
                self.add_error("entries", exc)
        return data


def ranges_text(intervals: list[hours.Interval], day: int) -> str:
    return ", ".join(f"{hours.format_minutes(i.start)}-{hours.format_minutes(i.end)}"
                     for i in intervals if i.day == day)


class HoursPolicyForm(_PolicyForm):
    scope = forms.ChoiceField(label=gettext_lazy("Applies to"), choices=hours.HoursScope.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, name in enumerate(DAY_FIELDS):
            self.fields[name] = forms.CharField(
                label=WEEKDAYS[day], required=False, max_length=DAY_MAX_LENGTH,
                widget=forms.TextInput(attrs={"placeholder": "09:00-18:00", "size": 40}))
        self.order_fields([*DAY_FIELDS, "mode", "scope", "confirm_self_lockout"])

    @staticmethod
    def initial_days(intervals: list[hours.Interval]) -> dict[str, str]:
        return {name: ranges_text(intervals, day) for day, name in enumerate(DAY_FIELDS)}

    def _clean_day(self, day: int, text: str) -> list[dict[str, object]]:
        intervals: list[dict[str, object]] = []
        errors: list[ValidationError] = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            bounds = [b.strip() for b in part.replace("–", "-").replace("—", "-").split("-")]  # noqa: RUF001
            if len(bounds) != 2:
                shown = part if len(part) <= 30 else part[:27] + "…"
                errors.append(ValidationError(
                    _("“%(value)s” is not a range of times such as 09:00-18:00."), code="range_invalid",
                    params={"value": shown}))
                continue
            try:
                start = hours.parse_time(bounds[0])
                end = hours.parse_time(bounds[1], allow_24=True)
            except ValidationError as exc:
                errors.append(exc)
                continue
            intervals.append({"day": day, "start": hours.format_minutes(start), "end": hours.format_minutes(end)})
        if errors:
            raise ValidationError(errors)
        return intervals

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        schedule: list[dict[str, object]] = []
        for day, name in enumerate(DAY_FIELDS):
            if name not in data:
                continue  # already has its own error (too long)
            try:
                schedule.extend(self._clean_day(day, data[name]))
            except ValidationError as exc:
                self.add_error(name, exc)
        data["schedule"] = schedule
        if not self.errors and "mode" in data:
            try:
                hours.hours_schedule_clean(schedule, mode=data["mode"])
            except ValidationError as exc:
                self.add_error(None, exc)
        return data
