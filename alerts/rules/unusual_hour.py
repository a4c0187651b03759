"""Unusual hour: a successful sign-in inside the tenant's quiet hours, or outside the hours this
person usually signs in.

Quiet hours are a wall-clock window in the tenant's time zone (default 00:00-05:00); a window
whose end is earlier than its start wraps midnight (22:00-05:00). The instant is converted with
``zoneinfo``, so on a DST change night the skipped hour never occurs and the repeated hour is
read as the wall time it shows. A window that would cover the whole day (start = end) is refused
by ``params_from``.

Usual hours are learned from the person's own successes over the previous ``usual_days`` (30),
once there are at least ``usual_min_successes`` (20) of them: the hours of the day (in the tenant's
zone) sorted by how many successes fell in them, taken most frequent first until they cover
``usual_coverage`` percent (95) of those successes, then widened by ``usual_margin_hours`` (1) on
each side so that finishing a little late is not an anomaly. A success in an hour outside that set
fires. With ``quiet_spares_usual`` (off by default) a sign-in inside the quiet hours at one of
the person's learned usual hours is not a finding, so night-shift workers are not paged nightly.
95% rather than "every hour ever seen" lets a one-off late night not teach the rule that
nights are normal; the minimum history keeps a new person from being judged on three sign-ins.

One alert per person and night (the local date the quiet window started, or the local date
for an unusual hour), so several sign-ins during one night are one alert.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.models import Outcome
from alerts.rules.base import Event, Finding, History, Severity, TenantContext
from alerts.rules.common import Spec, dedup_key, integer, items, param_fields, parse_params, text
from alerts.rules.common import zone as tz_zone

CODE = "unusual_hour"
TITLE = gettext_lazy("Unusual hour")
DEFAULT_SEVERITY = Severity.LOW
EVENT_KIND = "signin"
NEEDS = frozenset({"successes"})


@dataclass(frozen=True, slots=True)
class Params:
    quiet_hours: bool = True
    quiet_start: dt.time = dt.time(0, 0)
    quiet_end: dt.time = dt.time(5, 0)
    usual_hours: bool = True
    usual_days: int = 30
    usual_min_successes: int = 20
    usual_coverage: int = 95
    usual_margin_hours: int = 1
    quiet_spares_usual: bool = False
    severity: Severity = DEFAULT_SEVERITY


SPECS = {
    "quiet_hours": Spec(gettext_lazy("Watch quiet hours"), "bool",
                        gettext_lazy("Any sign-in inside the quiet hours is unusual.")),
    "quiet_start": Spec(gettext_lazy("Quiet hours start"), "time",
                        gettext_lazy("In the company's time zone.")),
    "quiet_end": Spec(gettext_lazy("Quiet hours end"), "time",
                      gettext_lazy("In the company's time zone; earlier than the start means the "
                                   "window crosses midnight.")),
    "usual_hours": Spec(gettext_lazy("Learn each person's usual hours"), "bool",
                        gettext_lazy("A sign-in outside the hours a person usually signs in is unusual.")),
    "usual_days": Spec(gettext_lazy("Usual hours learned over (days)"), "int",
                       gettext_lazy("How much of a person's history their usual hours come from."),
                       minimum=7, maximum=365),
    "usual_min_successes": Spec(gettext_lazy("Sign-ins needed to learn usual hours"), "int",
                                gettext_lazy("A person with fewer sign-ins in that period is judged "
                                             "by the quiet hours only."),
                                minimum=5, maximum=10000),
    "usual_coverage": Spec(gettext_lazy("Usual hours cover (%)"), "int",
                           gettext_lazy("The usual hours are the fewest hours of the day holding "
                                        "this share of a person's sign-ins."),
                           minimum=50, maximum=100),
    "usual_margin_hours": Spec(gettext_lazy("Margin around usual hours (hours)"), "int",
                               gettext_lazy("Hours either side of the usual hours that still count as usual."),
                               minimum=0, maximum=6),
}
SPECS["quiet_spares_usual"] = Spec(
    gettext_lazy("Spare people who usually sign in during quiet hours"), "bool",
    gettext_lazy("A sign-in inside the quiet hours at an hour the person usually signs in (night "
                 "shifts) is not unusual. Needs their usual hours to be learned."))
PARAM_FIELDS = param_fields(SPECS)


def _check(params: Params) -> dict[str, ValidationError]:
    errors: dict[str, ValidationError] = {}
    if params.quiet_start == params.quiet_end:
        errors["quiet_end"] = ValidationError(
            _("Quiet hours from %(start)s to %(end)s would cover the whole day; choose an end "
              "different from the start."),
            code="whole_day",
            params={"start": _hhmm(params.quiet_start), "end": _hhmm(params.quiet_end)})
    if not params.quiet_hours and not params.usual_hours:
        errors["quiet_hours"] = ValidationError(
            _("Watch quiet hours, usual hours or both; to stop this rule, switch it off."),
            code="nothing_watched")
    return errors


def params_from(data: Mapping[str, object]) -> Params:
    return parse_params(Params, SPECS, data, check=_check)


def lookback(params: Params) -> dt.timedelta:
    """How far before an event this rule reads successes."""
    return dt.timedelta(days=params.usual_days) if params.usual_hours else dt.timedelta(0)


def _hhmm(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


# A stretch of sign-ins no longer than this is converted with one offset when its two ends show
# the same one: no time zone changes its offset twice within a week, so the offset is constant
# in between. A stretch with a change inside is converted instant by instant. A person's month
# of sign-ins then costs a few conversions instead of one each (a conversion is ~1 us, and the
# detector judges thousands of sign-ins a second).
_STRETCH = dt.timedelta(days=7)


def local_hours(times: Sequence[dt.datetime], zone: dt.tzinfo) -> list[int]:
    """The hour of the day each of the sorted aware instants ``times`` shows in ``zone``."""
    hours: list[int] = []
    i, count = 0, len(times)
    while i < count:
        offset = times[i].astimezone(zone).utcoffset()
        last = bisect.bisect_right(times, times[i] + _STRETCH, lo=i) - 1
        if offset is not None and times[last].astimezone(zone).utcoffset() == offset:
            hours.extend((t + offset).hour for t in times[i:last + 1])
        else:
            hours.extend(t.astimezone(zone).hour for t in times[i:last + 1])
        i = last + 1
    return hours


def _hour_counts(earlier: Sequence[Event], zone: dt.tzinfo) -> Mapping[int, int]:
    """How many of these events fell in each hour of the day in ``zone``. The detector's history
    answers ``successes`` with a view that counts them itself (each sign-in's hour converted
    once, then counted in C: a busy person's month is thousands of sign-ins, asked about at each
    of them); any other sequence is converted and counted here."""
    known = getattr(earlier, "hour_counts", None)
    if callable(known):
        counts: Mapping[int, int] = known(zone)
        return counts
    return Counter(local_hours([e.occurred_at for e in earlier], zone))


def in_window(minute: int, start: int, end: int) -> bool:
    """Whether a minute of the day lies in [start, end), a window that may wrap midnight."""
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def usual_hours(local_hours: Iterable[int], *, coverage: int, margin: int) -> set[int]:
    """The hours covering ``coverage`` % of the sign-ins (most frequent first), widened by margin."""
    return usual_hours_of(Counter(local_hours), coverage=coverage, margin=margin)


def usual_hours_of(counts: Mapping[int, int], *, coverage: int, margin: int) -> set[int]:
    """``usual_hours`` from the number of sign-ins in each hour of the day."""
    total = sum(counts.values())
    chosen: set[int] = set()
    covered = 0
    for hour, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if covered * 100 >= coverage * total:
            break
        chosen.add(hour)
        covered += count
    return {(hour + step) % 24 for hour in chosen for step in range(-margin, margin + 1)}


def hour_ranges(hours: Iterable[int]) -> list[tuple[int, int]]:
    """Hours of the day as [start, end) ranges, a range may wrap midnight: {22, 23, 0} -> (22, 1)."""
    present = sorted(set(hours))
    if not present:
        return []
    if len(present) == 24:
        return [(0, 24)]
    ranges: list[list[int]] = []
    for hour in present:
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + 1
        else:
            ranges.append([hour, hour + 1])
    if len(ranges) > 1 and ranges[0][0] == 0 and ranges[-1][1] == 24:
        ranges[0][0] = ranges[-1][0]
        ranges.pop()
    return [(start, end % 24) for start, end in ranges]


def evaluate(event: Event, history: History, params: Params,
             tenant: TenantContext) -> list[Finding]:
    """A success inside the quiet hours or outside the person's learned usual hours."""
    if event.outcome != Outcome.SUCCESS or event.user_id is None:
        return []
    zone = tz_zone(tenant.timezone)
    local = event.occurred_at.astimezone(zone)
    minute = local.hour * 60 + local.minute
    start = params.quiet_start.hour * 60 + params.quiet_start.minute
    end = params.quiet_end.hour * 60 + params.quiet_end.minute
    quiet = params.quiet_hours and in_window(minute, start, end)

    usual: set[int] | None = None
    learned_from = 0
    if params.usual_hours:
        earlier = history.successes(user_id=event.user_id, since=event.occurred_at - lookback(params),
                                    before=event.occurred_at, exclude_id=event.id)
        learned_from = len(earlier)
        if learned_from >= params.usual_min_successes:
            usual = usual_hours_of(_hour_counts(earlier, zone), coverage=params.usual_coverage,
                                   margin=params.usual_margin_hours)
    outside_usual = usual is not None and local.hour not in usual
    if quiet and params.quiet_spares_usual and usual is not None and not outside_usual:
        quiet = False  # a night-shift worker signing in at their usual hour
    if not quiet and not outside_usual:
        return []

    night = local.date()
    if quiet and start > end and minute < end:
        night -= dt.timedelta(days=1)  # after midnight in a window that began the evening before
    return [Finding(
        rule=CODE, severity=params.severity, tenant_id=event.tenant_id, user_id=event.user_id,
        dedup_key=dedup_key(CODE, event.user_id, night.isoformat()),
        occurred_at=event.occurred_at, event_ids=(event.id,),
        evidence={
            "local_time": f"{local:%H:%M}", "local_date": local.date().isoformat(),
            "timezone": getattr(zone, "key", "UTC"),
            "quiet": quiet, "outside_usual": outside_usual,
            "quiet_start": _hhmm(params.quiet_start), "quiet_end": _hhmm(params.quiet_end),
            "usual_hours": sorted(usual) if usual is not None else [],
            "learned_from": learned_from, "usual_days": params.usual_days,
            "country": event.country, "ip": event.ip,
        },
    )]


def _ranges_text(hours: Iterable[int]) -> str:
    return ", ".join(f"{a:02d}:00-{b:02d}:00" for a, b in hour_ranges(hours))


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "local_time": gettext_lazy("Time in the organisation's time zone"),
    "local_date": gettext_lazy("Date in the organisation's time zone"),
    "timezone": gettext_lazy("Time zone"),
    "quiet": gettext_lazy("Inside the quiet hours"),
    "outside_usual": gettext_lazy("Outside the person's usual hours"),
    "quiet_start": gettext_lazy("Quiet hours start"),
    "quiet_end": gettext_lazy("Quiet hours end"),
    "usual_hours": gettext_lazy("The person's usual hours"),
    "learned_from": gettext_lazy("Sign-ins learned from"),
    "usual_days": gettext_lazy("Usual hours learned over (days)"),
    "country": gettext_lazy("Country"),
    "ip": gettext_lazy("IP address"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    hours = [h for h in items(evidence.get("usual_hours"))
             if isinstance(h, int) and not isinstance(h, bool) and 0 <= h < 24]
    values = {
        "time": text(evidence.get("local_time")), "zone": text(evidence.get("timezone"), "UTC"),
        "start": text(evidence.get("quiet_start")), "end": text(evidence.get("quiet_end")),
        "usual": _ranges_text(hours), "count": integer(evidence.get("learned_from")),
        "days": integer(evidence.get("usual_days")),
    }
    if evidence.get("quiet") and evidence.get("outside_usual"):
        return _("Signed in at %(time)s (%(zone)s), inside the company's quiet hours %(start)s-%(end)s "
                 "and outside this person's usual hours (%(usual)s, from %(count)s sign-ins in "
                 "%(days)s days).") % values
    if evidence.get("quiet"):
        return _("Signed in at %(time)s (%(zone)s), inside the company's quiet hours "
                 "%(start)s-%(end)s.") % values
    return _("Signed in at %(time)s (%(zone)s), outside this person's usual hours (%(usual)s, "
             "from %(count)s sign-ins in %(days)s days).") % values
