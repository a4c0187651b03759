"""Sign-in hours rules: when a tenant's people may sign in and keep using an open session.

Design: one ``SignInHoursPolicy`` per tenant (mode off / monitor / enforce, scope everyone or
members only, channels the web console, mail clients or both) holding a weekly schedule of
intervals in the tenant's wall-clock time (``Tenant.timezone``). An interval whose end is earlier than its start crosses midnight:
Fri 22:00-02:00 means Friday 22:00 to Saturday 02:00 (Sunday wraps to Monday). "24:00" may end
an interval, so a whole day is 00:00-24:00.

The schedule is stored as one validated JSON list of ``{"day": 0-6, "start": "HH:MM",
"end": "HH:MM"}`` (0 = Monday) rather than a child table: it is edited, validated (overlaps
span neighbouring days) and audited as a whole, so one row gives one audit entry with the
before/after schedule, and the session middleware reads it in one query.

Evaluation is pure and cheap: ``hours_rules_for`` (selectors) precomputes, per weekday, sorted merged
minute ranges ``[start, end)``; ``window_open`` converts the aware ``now`` to the tenant's
zone and scans at most a handful of ranges. Converting an aware instant is what makes DST
right: in the spring-forward gap the skipped wall times simply never occur, and in the
fall-back overlap both passes through the repeated hour read as that wall time.
"""

from __future__ import annotations

import itertools
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.models import Reason
from security.policies.base import Channel, Channels, Decision, Mode, SignInContext, channel_covered
from tenants.roles import Role

DAY_MINUTES = 24 * 60
MAX_INTERVALS_PER_DAY = 24
_UTC = zoneinfo.ZoneInfo("UTC")
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")

Range = tuple[int, int]  # minutes since local midnight, [start, end)


class HoursScope(models.TextChoices):
    EVERYONE = "everyone", gettext_lazy("Everyone")
    MEMBERS = "members", gettext_lazy("Members only (not owners, administrators, auditors or helpdesk)")


def day_name(day: int) -> str:
    return str(WEEKDAYS[day])


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_time(text: Any, *, allow_24: bool = False) -> int:
    """"H:MM" or "HH:MM" as minutes after midnight; "24:00" only where an interval may end."""
    match = _TIME.match(text.strip()) if isinstance(text, str) and len(text) <= 10 else None
    if match is not None:
        hours, minutes = int(match[1]), int(match[2])
        if (hours < 24 and minutes < 60) or (allow_24 and hours == 24 and minutes == 0):
            return hours * 60 + minutes
    shown = text if isinstance(text, str) and len(text) <= 20 else "…"
    raise ValidationError(_("“%(value)s” is not a time such as 09:00 or 17:30."), code="time_invalid",
                          params={"value": shown})


@dataclass(frozen=True, slots=True)
class Interval:
    day: int  # 0 = Monday, as datetime.weekday()
    start: int  # minutes
    end: int  # minutes; < start crosses midnight; may be 1440

    def pieces(self) -> list[tuple[int, int, int]]:
        """(day, start, end) parts inside single days: a midnight-crossing interval gives two."""
        if self.end > self.start:
            return [(self.day, self.start, self.end)]
        parts = [(self.day, self.start, DAY_MINUTES)]
        if self.end > 0:
            parts.append(((self.day + 1) % 7, 0, self.end))
        return parts

    def describe(self) -> str:
        end = format_minutes(self.end)
        return f"{day_name(self.day)} {format_minutes(self.start)}-{end}"

    def as_json(self) -> dict[str, object]:
        return {"day": self.day, "start": format_minutes(self.start), "end": format_minutes(self.end)}


def _interval_from(item: Any) -> Interval:
    if not isinstance(item, dict) or set(item) != {"day", "start", "end"}:
        raise ValidationError(_("Each interval needs a day, a start and an end."), code="interval_shape")
    day = item["day"]
    if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
        raise ValidationError(_("The day must be a number from 0 (Monday) to 6 (Sunday)."), code="day_invalid")
    start = parse_time(item["start"])
    end = parse_time(item["end"], allow_24=True)
    interval = Interval(day=day, start=start, end=end)
    if start == end:
        raise ValidationError(
            _("%(interval)s starts and ends at the same time. For a whole day use 00:00-24:00."),
            code="interval_empty", params={"interval": interval.describe()})
    return interval


def hours_schedule_clean(schedule: Any, *, mode: str = Mode.OFF) -> list[Interval]:
    """Validate a schedule (the JSON list); reports every problem at once, fixes nothing."""
    if not isinstance(schedule, list):
        raise ValidationError(_("The schedule must be a list of intervals."), code="schedule_shape")
    if len(schedule) > 7 * MAX_INTERVALS_PER_DAY:
        raise ValidationError(_("A schedule holds at most %(max)d intervals."), code="too_many",
                              params={"max": 7 * MAX_INTERVALS_PER_DAY})
    errors: list[ValidationError] = []
    intervals: list[Interval] = []
    for item in schedule:
        try:
            intervals.append(_interval_from(item))
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    per_day: dict[int, list[tuple[int, int, Interval]]] = {d: [] for d in range(7)}
    for interval in intervals:
        for day, start, end in interval.pieces():
            per_day[day].append((start, end, interval))
    for day in range(7):
        if len(per_day[day]) > MAX_INTERVALS_PER_DAY:
            errors.append(ValidationError(_("%(day)s has more than %(max)d intervals."), code="too_many",
                                          params={"day": day_name(day), "max": MAX_INTERVALS_PER_DAY}))
            continue
        pieces = sorted(per_day[day], key=lambda p: (p[0], p[1]))
        for (_s1, end1, first), (start2, _e2, second) in itertools.pairwise(pieces):
            if start2 < end1:
                errors.append(ValidationError(
                    _("%(first)s overlaps %(second)s on %(day)s."), code="interval_overlap",
                    params={"first": first.describe(), "second": second.describe(), "day": day_name(day)}))
    if errors:
        raise ValidationError(errors)
    if mode == Mode.ENFORCE and not intervals:
        raise ValidationError(
            _("An enforced schedule with no hours would stop everyone it applies to from signing in. "
              "Add at least one interval, or choose monitor or off."),
            code="empty_enforce")
    return sorted(intervals, key=lambda i: (i.day, i.start))


def zone_for(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # Tenant.timezone is validated; a zone dropped from tzdata later must not break sign-in.
        return _UTC


def _week(intervals: Iterable[Interval]) -> tuple[tuple[Range, ...], ...]:
    days: list[list[Range]] = [[] for _ in range(7)]
    for interval in intervals:
        for day, start, end in interval.pieces():
            days[day].append((start, end))
    week: list[tuple[Range, ...]] = []
    for ranges in days:
        merged: list[Range] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1]:  # touching ranges read as one
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        week.append(tuple(merged))
    return tuple(week)


@dataclass(frozen=True, slots=True)
class HoursRules:
    """What ``evaluate`` and ``window_open`` need; no database behind it."""

    mode: str = Mode.OFF
    scope: str = HoursScope.EVERYONE
    channels: str = Channels.BOTH
    tz: zoneinfo.ZoneInfo = _UTC
    week: tuple[tuple[Range, ...], ...] = ((),) * 7  # per weekday, sorted merged minute ranges

    @classmethod
    def build(cls, *, mode: str, scope: str, timezone_name: str, intervals: Iterable[Interval],
              channels: str = Channels.BOTH) -> HoursRules:
        return cls(mode=mode, scope=scope, channels=channels, tz=zone_for(timezone_name),
                   week=_week(intervals))

    def applies_to(self, role: str, channel: Channel = Channel.WEB) -> bool:
        if self.mode == Mode.OFF or not channel_covered(self.channels, channel):
            return False
        return self.scope != HoursScope.MEMBERS or role == Role.MEMBER


def window_open(now: datetime, rules: HoursRules) -> bool:
    """Whether the schedule is open at this instant (mode and scope aside). Aware ``now`` only."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("window_open needs an aware datetime")
    local = now.astimezone(rules.tz)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in rules.week[local.weekday()])


def evaluate(ctx: SignInContext, rules: HoursRules) -> Decision:
    """The schedule's verdict on one sign-in attempt or one request of an open session, over the
    attempt's channel (web console or mail client)."""
    if not rules.applies_to(ctx.role, ctx.channel) or window_open(ctx.now, rules):
        return Decision.allow()
    if rules.mode == Mode.ENFORCE:
        return Decision.deny(Reason.HOURS_DENIED)
    return Decision.would_deny(Reason.HOURS_MONITOR)


def intervals_stored(schedule: Any) -> list[Interval]:
    """A saved schedule as intervals."""
    try:
        return hours_schedule_clean(schedule)
    except ValidationError:
        # Saved schedules are validated; should one be corrupted by hand, read it as "no hours"
        # (which under enforce denies) rather than crash every request.
        return []
