from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from activity.models import Reason
from security.policies.base import Mode, SignInContext, Verdict
from security.policies.hours.rules import (
    HoursRules,
    HoursScope,
    evaluate,
    hours_schedule_clean,
    window_open,
)
from tenants.roles import Role

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def iv(day: int, start: str, end: str) -> dict[str, object]:
    return {"day": day, "start": start, "end": end}


def rules(*intervals: dict[str, object], tz: str = "UTC", mode: str = Mode.ENFORCE,
          scope: str = HoursScope.EVERYONE) -> HoursRules:
    return HoursRules.build(mode=mode, scope=scope, timezone_name=tz,
                            intervals=hours_schedule_clean(list(intervals)))


def local(tz: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz), fold=fold)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def decide(now: datetime, policy: HoursRules, role: str = Role.MEMBER):
    return evaluate(SignInContext(ip="192.0.2.1", now=now, role=role), policy)


# 2026-03-02 is a Monday; 2026-03-06 a Friday.

def test_simple_window_boundaries_are_half_open():
    policy = rules(iv(MON, "09:00", "18:00"))
    assert not window_open(utc(2026, 3, 2, 8, 59, 59), policy)
    assert window_open(utc(2026, 3, 2, 9, 0), policy)
    assert window_open(utc(2026, 3, 2, 17, 59, 59), policy)
    assert not window_open(utc(2026, 3, 2, 18, 0), policy)
    assert not window_open(utc(2026, 3, 3, 12, 0), policy)  # Tuesday has no hours


def test_several_intervals_a_day():
    policy = rules(iv(MON, "08:00", "12:00"), iv(MON, "13:00", "17:00"), iv(MON, "20:00", "21:00"))
    opened = [h for h in range(24) if window_open(utc(2026, 3, 2, h, 30), policy)]
    assert opened == [8, 9, 10, 11, 13, 14, 15, 16, 20]


def test_adjacent_intervals_are_not_an_overlap_and_leave_no_gap():
    policy = rules(iv(MON, "08:00", "12:00"), iv(MON, "12:00", "13:00"))
    assert window_open(utc(2026, 3, 2, 12, 0), policy)
    assert window_open(utc(2026, 3, 2, 12, 59), policy)


def test_midnight_spanning_window_continues_into_the_next_day():
    policy = rules(iv(FRI, "22:00", "02:00"))
    assert not window_open(utc(2026, 3, 6, 21, 59), policy)
    assert window_open(utc(2026, 3, 6, 22, 0), policy)
    assert window_open(utc(2026, 3, 6, 23, 59), policy)
    assert window_open(utc(2026, 3, 7, 0, 0), policy)  # Saturday
    assert window_open(utc(2026, 3, 7, 1, 59), policy)
    assert not window_open(utc(2026, 3, 7, 2, 0), policy)
    assert not window_open(utc(2026, 3, 6, 1, 0), policy)  # Friday early morning is not included
    assert not window_open(utc(2026, 3, 7, 22, 30), policy)


def test_sunday_night_wraps_to_monday_morning():
    policy = rules(iv(SUN, "23:00", "01:00"))
    assert window_open(utc(2026, 3, 8, 23, 30), policy)  # Sunday
    assert window_open(utc(2026, 3, 9, 0, 30), policy)  # Monday
    assert not window_open(utc(2026, 3, 2, 23, 30), policy)  # Monday night


def test_until_midnight_and_whole_day():
    policy = rules(iv(MON, "22:00", "00:00"), iv(TUE, "00:00", "24:00"))
    assert window_open(utc(2026, 3, 2, 23, 59), policy)
    assert window_open(utc(2026, 3, 3, 0, 0), policy)
    assert window_open(utc(2026, 3, 3, 23, 59), policy)
    assert not window_open(utc(2026, 3, 4, 0, 0), policy)


def test_times_are_in_the_tenant_timezone():
    policy = rules(iv(MON, "09:00", "17:00"), tz=NEW_YORK)
    assert not window_open(utc(2026, 3, 2, 9, 30), policy)  # 04:30 in New York
    assert window_open(utc(2026, 3, 2, 14, 30), policy)  # 09:30 in New York
    shanghai = rules(iv(TUE, "09:00", "17:00"), tz="Asia/Shanghai")
    assert window_open(utc(2026, 3, 3, 2, 0), shanghai)  # Tuesday 10:00 in Shanghai
    # Monday 23:00 UTC is already Tuesday 07:00 in Shanghai: neither Monday nor inside Tuesday's hours.
    assert not window_open(utc(2026, 3, 2, 23, 0), shanghai)
    assert not window_open(utc(2026, 3, 2, 23, 0), rules(iv(MON, "00:00", "24:00"), tz="Asia/Shanghai"))


# --- DST ----------------------------------------------------------------------------------------
# Berlin: 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00 UTC); 2026-10-25 03:00 CEST falls
# back to 02:00 CET (01:00 UTC). New York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC);
# 2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC).

def test_berlin_spring_forward_window_follows_the_wall_clock():
    policy = rules(iv(SUN, "09:00", "17:00"), tz=BERLIN)
    assert window_open(utc(2026, 3, 29, 7, 0), policy)  # 09:00 CEST (+2)
    assert not window_open(utc(2026, 3, 29, 6, 59), policy)  # 08:59 CEST
    assert window_open(utc(2026, 3, 29, 14, 59), policy)  # 16:59 CEST
    assert not window_open(utc(2026, 3, 29, 15, 0), policy)  # 17:00 CEST


def test_berlin_spring_forward_gap_hour_never_happens():
    gap_only = rules(iv(SUN, "02:00", "03:00"), tz=BERLIN)
    instants = [utc(2026, 3, 28, 23, 0) + timedelta(minutes=m) for m in range(0, 6 * 60)]
    assert not any(window_open(t, gap_only) for t in instants)
    across = rules(iv(SUN, "01:00", "03:30"), tz=BERLIN)
    assert window_open(utc(2026, 3, 29, 0, 59), across)  # 01:59 CET
    assert window_open(utc(2026, 3, 29, 1, 0), across)  # 03:00 CEST, right after the jump
    assert window_open(utc(2026, 3, 29, 1, 29), across)  # 03:29 CEST
    assert not window_open(utc(2026, 3, 29, 1, 30), across)  # 03:30 CEST
    # The window lasted 1.5 real hours, not 2.5.
    minutes_open = sum(window_open(t, across) for t in instants)
    assert minutes_open == 90


def test_berlin_fall_back_repeated_hour_is_open_both_times():
    policy = rules(iv(SUN, "02:00", "02:30"), tz=BERLIN)
    assert window_open(utc(2026, 10, 25, 0, 15), policy)  # 02:15 CEST (first pass)
    assert not window_open(utc(2026, 10, 25, 0, 45), policy)  # 02:45 CEST
    assert window_open(utc(2026, 10, 25, 1, 15), policy)  # 02:15 CET (second pass)
    assert not window_open(utc(2026, 10, 25, 1, 30), policy)  # 02:30 CET
    assert window_open(local(BERLIN, 2026, 10, 25, 2, 10, fold=1), policy)
    instants = [utc(2026, 10, 24, 22, 0) + timedelta(minutes=m) for m in range(0, 6 * 60)]
    assert sum(window_open(t, policy) for t in instants) == 60


def test_new_york_spring_forward_with_midnight_spanning_window():
    policy = rules(iv(SAT, "22:00", "02:30"), tz=NEW_YORK)
    assert window_open(utc(2026, 3, 8, 3, 0), policy)  # Saturday 22:00 EST
    assert window_open(utc(2026, 3, 8, 6, 59), policy)  # Sunday 01:59 EST
    assert not window_open(utc(2026, 3, 8, 7, 0), policy)  # Sunday 03:00 EDT: 02:xx never came
    assert not window_open(utc(2026, 3, 8, 7, 29), policy)


def test_new_york_fall_back_weekday_hours():
    policy = rules(iv(SUN, "01:00", "02:00"), tz=NEW_YORK)
    assert window_open(utc(2026, 11, 1, 5, 30), policy)  # 01:30 EDT
    assert window_open(utc(2026, 11, 1, 6, 30), policy)  # 01:30 EST, the hour again
    assert not window_open(utc(2026, 11, 1, 7, 0), policy)  # 02:00 EST
    weekday = rules(iv(MON, "09:00", "17:00"), tz=NEW_YORK)
    assert window_open(utc(2026, 11, 2, 14, 0), weekday)  # 09:00 EST (-5)
    assert not window_open(utc(2026, 11, 2, 13, 59), weekday)  # would be 09:59 under EDT


def test_same_instant_in_any_input_zone_gives_the_same_answer():
    policy = rules(iv(MON, "09:00", "17:00"), tz=BERLIN)
    instant = utc(2026, 3, 2, 8, 30)
    for zone in ("UTC", "Asia/Tokyo", NEW_YORK, "Pacific/Kiritimati"):
        assert window_open(instant.astimezone(ZoneInfo(zone)), policy)


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="aware"):
        window_open(datetime(2026, 3, 2, 9, 0), rules(iv(MON, "09:00", "17:00")))  # noqa: DTZ001


# --- Evaluation: mode and scope -----------------------------------------------------------------


def test_enforce_denies_outside_hours():
    policy = rules(iv(MON, "09:00", "17:00"))
    assert decide(utc(2026, 3, 2, 10, 0), policy).allowed
    decision = decide(utc(2026, 3, 2, 20, 0), policy)
    assert decision.verdict == Verdict.DENY and decision.reason == Reason.HOURS_DENIED


def test_monitor_lets_through_and_records():
    policy = rules(iv(MON, "09:00", "17:00"), mode=Mode.MONITOR)
    outside = decide(utc(2026, 3, 2, 20, 0), policy)
    assert outside.allowed and outside.monitored and outside.reason == Reason.HOURS_MONITOR
    assert not decide(utc(2026, 3, 2, 10, 0), policy).monitored


def test_off_allows_everything():
    assert decide(utc(2026, 3, 2, 20, 0), rules(iv(MON, "09:00", "17:00"), mode=Mode.OFF)).allowed
    assert decide(utc(2026, 3, 2, 20, 0), HoursRules()).allowed


@pytest.mark.parametrize(("role", "checked"), [
    (Role.MEMBER, True), (Role.OWNER, False), (Role.ADMIN, False), (Role.AUDITOR, False),
    (Role.HELPDESK, False),
])
def test_members_only_scope(role, checked):
    policy = rules(iv(MON, "09:00", "17:00"), scope=HoursScope.MEMBERS)
    assert decide(utc(2026, 3, 2, 20, 0), policy, role=role).allowed is not checked


# --- Validation ---------------------------------------------------------------------------------


def codes(exc: ValidationError) -> list[str]:
    return [e.code for e in exc.error_list]


@pytest.mark.parametrize(("schedule", "code"), [
    ([iv(MON, "09:00", "12:00"), iv(MON, "11:00", "13:00")], "interval_overlap"),
    ([iv(MON, "09:00", "17:00"), iv(MON, "10:00", "11:00")], "interval_overlap"),
    ([iv(FRI, "22:00", "02:00"), iv(SAT, "01:00", "03:00")], "interval_overlap"),  # via midnight
    ([iv(SUN, "22:00", "02:00"), iv(MON, "00:00", "08:00")], "interval_overlap"),  # week wrap
    ([iv(MON, "09:00", "09:00")], "interval_empty"),
    ([iv(MON, "24:00", "10:00")], "time_invalid"),
    ([iv(MON, "25:00", "26:00")], "time_invalid"),
    ([iv(MON, "09:60", "10:00")], "time_invalid"),
    ([iv(MON, "9h", "10:00")], "time_invalid"),
    ([iv(MON, "x" * 10_000, "10:00")], "time_invalid"),
    ([iv(MON, 900, "10:00")], "time_invalid"),
    ([iv(7, "09:00", "10:00")], "day_invalid"),
    ([iv(-1, "09:00", "10:00")], "day_invalid"),
    ([{"day": True, "start": "09:00", "end": "10:00"}], "day_invalid"),
    ([{"day": "0", "start": "09:00", "end": "10:00"}], "day_invalid"),
    ([{"day": 0, "start": "09:00"}], "interval_shape"),
    (["09:00-10:00"], "interval_shape"),
])
def test_bad_schedules_are_clear_errors(schedule, code):
    with pytest.raises(ValidationError) as caught:
        hours_schedule_clean(schedule)
    assert code in codes(caught.value)
    assert all(len(m) < 300 for m in caught.value.messages)


def test_overlap_message_names_both_intervals_and_the_day():
    with pytest.raises(ValidationError) as caught:
        hours_schedule_clean([iv(FRI, "22:00", "02:00"), iv(SAT, "01:00", "03:00")])
    message = caught.value.messages[0]
    assert "Friday 22:00-02:00" in message and "Saturday 01:00-03:00" in message


def test_schedule_must_be_a_list():
    for value in (None, {}, "09:00-17:00", 3):
        with pytest.raises(ValidationError):
            hours_schedule_clean(value)


def test_empty_schedule_with_enforce_is_refused():
    with pytest.raises(ValidationError) as caught:
        hours_schedule_clean([], mode=Mode.ENFORCE)
    assert caught.value.code == "empty_enforce"
    assert hours_schedule_clean([], mode=Mode.MONITOR) == []


def test_single_digit_hours_are_normalised():
    [interval] = hours_schedule_clean([iv(MON, "9:00", "17:30")])
    assert interval.as_json() == {"day": MON, "start": "09:00", "end": "17:30"}
