"""Unusual hour: quiet hours in the tenant's zone (DST, wrap-around) and each person's usual hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import unusual_hour
from alerts.rules.base import Severity, TenantContext
from tests.alerts.fakes import FakeHistory, at, habit, signin

BERLIN = TenantContext(tenant_id=1, timezone="Europe/Berlin")
NEW_YORK = TenantContext(tenant_id=1, timezone="America/New_York")
QUIET_ONLY = unusual_hour.params_from({"usual_hours": False})
DEFAULTS = unusual_hour.params_from({})


def quiet(when, tenant=BERLIN, params=QUIET_ONLY):
    event = signin(when)
    return unusual_hour.evaluate(event, FakeHistory([event]), params, tenant)


@pytest.mark.parametrize(("when", "expected"), [
    ("2026-12-01 23:30", 1),   # 00:30 CET
    ("2026-12-02 03:59", 1),   # 04:59 CET
    ("2026-12-02 04:00", 0),   # 05:00 CET: the end is not inside
    ("2026-12-01 22:59", 0),   # 23:59 CET
])
def test_quiet_hours_are_read_in_the_tenant_zone(when, expected):
    assert len(quiet(when)) == expected


@pytest.mark.parametrize(("when", "local", "expected"), [
    # Spring forward in Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    ("2026-03-28 03:30", "04:30", 1),  # the day before, CET: inside
    ("2026-03-29 00:30", "01:30", 1),
    ("2026-03-29 01:00", "03:00", 1),  # the first instant of summer time
    ("2026-03-29 02:30", "04:30", 1),
    ("2026-03-29 03:30", "05:30", 0),  # the same UTC time as the day before, now outside
    # Fall back, 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00 UTC.
    ("2026-10-24 03:30", "05:30", 0),  # CEST: outside
    ("2026-10-25 00:30", "02:30", 1),  # the first 02:30 (CEST)
    ("2026-10-25 01:30", "02:30", 1),  # the repeated 02:30 (CET)
    ("2026-10-25 03:30", "04:30", 1),  # CET: inside now
    ("2026-10-25 04:00", "05:00", 0),
])
def test_quiet_hours_across_berlin_dst_changes(when, local, expected):
    findings = quiet(when)
    assert len(findings) == expected
    if findings:
        assert findings[0].evidence["local_time"] == local
        assert findings[0].evidence["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(("when", "expected"), [
    ("2026-03-07 09:30", 1),   # 04:30 EST
    ("2026-03-08 09:30", 0),   # 05:30 EDT, after spring forward
    ("2026-10-31 09:30", 0),   # 05:30 EDT
    ("2026-11-01 05:30", 1),   # 01:30 EDT
    ("2026-11-01 06:30", 1),   # 01:30 EST, the repeated hour
    ("2026-11-01 09:30", 1),   # 04:30 EST
])
def test_quiet_hours_across_new_york_dst_changes(when, expected):
    assert len(quiet(when, NEW_YORK)) == expected


def test_a_window_wrapping_midnight_and_one_alert_per_night():
    params = unusual_hour.params_from({"usual_hours": False, "quiet_start": "22:00",
                                       "quiet_end": "05:00"})
    evening = quiet("2026-12-01 21:30", params=params)     # 22:30 CET, 1 December
    morning = quiet("2026-12-02 02:00", params=params)     # 03:00 CET, 2 December
    next_evening = quiet("2026-12-02 21:30", params=params)
    assert quiet("2026-12-01 20:59", params=params) == []  # 21:59
    assert quiet("2026-12-02 04:00", params=params) == []  # 05:00
    assert evening[0].dedup_key == morning[0].dedup_key == "unusual_hour:7:2026-12-01"
    assert next_evening[0].dedup_key == "unusual_hour:7:2026-12-02"


def test_the_finding_explains_the_quiet_hours():
    [finding] = quiet("2026-12-01 02:12")
    assert finding.severity == Severity.LOW
    with translation.override("en"):
        assert unusual_hour.describe(finding.evidence) == (
            "Signed in at 03:12 (Europe/Berlin), inside the company's quiet hours 00:00-05:00.")


def office_hours(days=30, **kwargs):
    """09:00, 12:00 and 15:00 Berlin time (CET) every day of November."""
    return [e for h in (8, 11, 14) for e in habit("2026-11-01", days=days, hour=h, **kwargs)]


def usual(when, history_events, params=DEFAULTS):
    event = signin(when)
    return unusual_hour.evaluate(event, FakeHistory([*history_events, event]), params, BERLIN)


def test_outside_the_learned_usual_hours_is_a_finding_with_the_hours():
    [finding] = usual("2026-12-01 19:30", office_hours())  # 20:30 CET
    evidence = finding.evidence
    assert evidence["quiet"] is False and evidence["outside_usual"] is True
    assert evidence["usual_hours"] == list(range(8, 17))
    with translation.override("en"):
        assert unusual_hour.describe(evidence) == (
            "Signed in at 20:30 (Europe/Berlin), outside this person's usual hours "
            "(08:00-17:00, from 87 sign-ins in 30 days).")


def test_inside_usual_hours_and_their_margin_is_no_finding():
    assert usual("2026-12-01 15:30", office_hours()) == []  # 16:30: 15:00 plus the margin
    assert len(usual("2026-12-01 16:30", office_hours())) == 1  # 17:30
    no_margin = unusual_hour.params_from({"usual_margin_hours": 0})
    assert len(usual("2026-12-01 09:30", office_hours(), no_margin)) == 1  # 10:30


def test_too_little_history_is_judged_by_quiet_hours_only():
    few = habit("2026-11-20", days=6, hour=8) + habit("2026-11-20", days=6, hour=11) \
        + habit("2026-11-20", days=7, hour=14)  # 19 successes
    assert usual("2026-12-01 19:30", few) == []
    assert len(usual("2026-12-01 19:30", [*few, signin("2026-11-30 11:00")])) == 1


def test_a_rare_late_night_does_not_make_nights_usual():
    events = [*office_hours(), signin("2026-11-10 21:10")]  # 22:10 CET once among 91
    assert len(usual("2026-12-01 21:20", events)) == 1
    everything = unusual_hour.params_from({"usual_coverage": 100})
    assert usual("2026-12-01 21:20", events, everything) == []


def test_usual_hours_wrapping_midnight_are_described_as_one_range():
    nights = [e for h in (21, 22, 23) for e in habit("2026-11-01", days=30, hour=h)]
    # 22:00-01:00 CET learned, ±1 hour: 21:00-02:00. 10:00 CET is outside.
    params = unusual_hour.params_from({"quiet_hours": False})
    [finding] = usual("2026-12-01 09:00", nights, params)
    with translation.override("en"):
        assert "(21:00-02:00, from 90 sign-ins" in unusual_hour.describe(finding.evidence)
    assert usual("2026-12-01 00:30", nights, params) == []  # 01:30 CET


def test_quiet_and_unusual_together():
    [finding] = usual("2026-12-01 02:00", office_hours())
    assert finding.evidence["quiet"] and finding.evidence["outside_usual"]
    with translation.override("en"):
        assert "inside the company's quiet hours 00:00-05:00 and outside this person's usual " \
            "hours" in unusual_hour.describe(finding.evidence)


def test_an_unknown_time_zone_reads_as_utc():
    event = signin("2026-12-01 03:00")
    tenant = TenantContext(tenant_id=1, timezone="Mars/Olympus_Mons")
    [finding] = unusual_hour.evaluate(event, FakeHistory([event]), QUIET_ONLY, tenant)
    assert finding.evidence["local_time"] == "03:00"


@pytest.mark.parametrize(("start", "end"), [("00:00", "00:00"), ("05:30", "05:30"),
                                            (dt.time(22, 0), "22:00")])
def test_a_quiet_window_covering_the_whole_day_is_refused(start, end):
    with pytest.raises(ValidationError) as caught:
        unusual_hour.params_from({"quiet_start": start, "quiet_end": end})
    assert list(caught.value.message_dict) == ["quiet_end"]
    with translation.override("en"):
        assert "whole day" in caught.value.message_dict["quiet_end"][0]


@pytest.mark.parametrize(("field", "value"), [
    ("quiet_end", "24:00"), ("quiet_start", "25:00"), ("quiet_start", "noon"),
    ("quiet_start", 5), ("usual_days", 0), ("usual_days", -30), ("usual_days", 10**9),
    ("usual_coverage", 101), ("usual_min_successes", "many"), ("quiet_hours", "maybe"),
])
def test_bad_values_are_refused_under_their_field(field, value):
    with pytest.raises(ValidationError) as caught:
        unusual_hour.params_from({field: value})
    assert field in caught.value.message_dict


def test_watching_nothing_is_refused_and_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as caught:
        unusual_hour.params_from({"quiet_hours": "off", "usual_hours": False,
                                  "quiet_start": "03:00", "quiet_end": "03:00", "usual_days": 0})
    assert set(caught.value.message_dict) == {"quiet_hours", "quiet_end", "usual_days"}


def test_times_from_forms_and_saved_json_read_the_same():
    a = unusual_hour.params_from({"quiet_start": dt.time(23, 0), "quiet_end": "06:00"})
    b = unusual_hour.params_from({"quiet_start": "23:00:00", "quiet_end": "6:00"})
    assert a == b
    assert (a.quiet_start, a.quiet_end) == (dt.time(23, 0), dt.time(6, 0))



def test_usual_hours_are_learned_in_local_time_across_a_dst_change():
    # 08:00 in Berlin every day from 10 October to 8 November: 06:00 UTC, then 07:00 UTC.
    days = [dt.date(2026, 10, 10) + dt.timedelta(days=n) for n in range(30)]
    events = [signin(dt.datetime(d.year, d.month, d.day, 8, tzinfo=ZoneInfo("Europe/Berlin"))
                     .astimezone(dt.UTC)) for d in days]
    params = unusual_hour.params_from({"usual_margin_hours": 0, "usual_coverage": 100,
                                       "quiet_hours": False})
    [finding] = usual("2026-11-09 19:00", events, params)
    assert finding.evidence["usual_hours"] == [8]
    assert usual("2026-11-09 07:10", events, params) == []  # 08:10 CET


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                  "Asia/Kathmandu", "America/Sao_Paulo", "Africa/Casablanca",
                                  "UTC"])
def test_local_hours_agree_with_a_conversion_of_each_instant(zone):
    tz = ZoneInfo(zone)
    start = at("2026-01-01 00:07")
    times = [start + dt.timedelta(minutes=53 * n) for n in range(10_000)]  # a year, every 53 min
    assert unusual_hour.local_hours(times, tz) == [t.astimezone(tz).hour for t in times]


def test_night_shifts_can_be_spared_from_quiet_hours():
    nights = [e for h in (1, 2, 3) for e in habit("2026-11-01", days=30, hour=h)]  # 02-04 CET
    assert len(usual("2026-12-01 02:10", nights)) == 1  # quiet hours apply by default
    spared = unusual_hour.params_from({"quiet_spares_usual": "on"})
    assert usual("2026-12-01 02:10", nights, spared) == []
    # Still caught when the night is not their usual one, or their hours are not known yet.
    assert len(usual("2026-12-01 23:10", nights, spared)) == 1  # 00:10 CET
    assert len(usual("2026-12-01 02:10", nights[:5], spared)) == 1
