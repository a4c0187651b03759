"""The sign-in hours form: one line of time ranges per weekday in, the schedule list out."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from security.policies.forms import ModePolicyForm
from security.policies.hours.rules import (
    HoursScope,
    Interval,
    format_minutes,
    hours_schedule_clean,
    parse_time,
)

DAY_MAX_LENGTH = 400
DAY_FIELDS = [f"day_{day}" for day in range(7)]


def ranges_text(intervals: list[Interval], day: int) -> str:
    return ", ".join(f"{format_minutes(i.start)}-{format_minutes(i.end)}" for i in intervals if i.day == day)


class HoursPolicyForm(ModePolicyForm):
    scope = forms.ChoiceField(label=gettext_lazy("Applies to"), choices=HoursScope.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, name in enumerate(DAY_FIELDS):
            self.fields[name] = forms.CharField(
                label=WEEKDAYS[day], required=False, max_length=DAY_MAX_LENGTH,
                widget=forms.TextInput(attrs={"placeholder": "09:00-18:00", "size": 40}))
        self.order_fields([*DAY_FIELDS, "mode", "scope", "channels", "confirm_self_lockout"])

    @staticmethod
    def initial_days(intervals: list[Interval]) -> dict[str, str]:
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
                start = parse_time(bounds[0])
                end = parse_time(bounds[1], allow_24=True)
            except ValidationError as exc:
                errors.append(exc)
                continue
            intervals.append({"day": day, "start": format_minutes(start), "end": format_minutes(end)})
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
                hours_schedule_clean(schedule, mode=data["mode"])
            except ValidationError as exc:
                self.add_error(None, exc)
        return data
