"""Mass export: rows in 24 h at least 10x the person's 30-day daily median and at least 10,000."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import mass_export as rule
from alerts.rules.base import Severity
from tests.alerts.fakes import TENANT, FakeHistory, at, export, signin

DEFAULTS = rule.params_from({})


def run(sample, history, params=DEFAULTS):
    return rule.evaluate_export(sample, history, params, TENANT)


def daily(rows, days=30, end="2026-12-01 09:00", user_id=7):
    """One export of ``rows`` a day on each of the ``days`` days before ``end``'s window."""
    last = at(end) - dt.timedelta(days=1, hours=1)
    return [export(last - dt.timedelta(days=d), rows, user_id=user_id) for d in range(days)]


def test_someone_who_never_exports_is_judged_by_the_minimum_rows():
    sample = export("2026-12-01 09:00", 12_000)
    [finding] = run(sample, FakeHistory(exports=[sample]))
    assert finding.severity == Severity.HIGH
    assert finding.event_ids == (sample.id,)
    assert finding.evidence["median_daily_rows"] == 0
    with translation.override("en"):
        assert rule.describe(finding.evidence) == (
            "Exported 12,000 rows in one export within 24 hours; this person exported nothing "
            "on most of the previous 30 days.")
    assert run(export("2026-12-01 09:00", 9_999), FakeHistory()) == []


def test_rows_add_up_over_the_window():
    earlier = [export("2026-11-30 10:00", 4_000), export("2026-12-01 01:00", 4_000)]
    sample = export("2026-12-01 09:00", 3_000)
    [finding] = run(sample, FakeHistory(exports=[*earlier, sample]))
    assert finding.evidence["rows"] == 11_000
    assert finding.evidence["exports"] == 3
    # The export of 30 November 08:59 is more than 24 hours before: not in the window.
    outside = [export("2026-11-30 08:59", 4_000), export("2026-12-01 01:00", 4_000)]
    assert run(sample, FakeHistory(exports=outside)) == []


def test_a_person_whose_job_is_exporting_is_judged_against_their_median():
    habit = daily(5_000)
    assert run(export("2026-12-01 09:00", 45_000), FakeHistory(exports=habit)) == []
    [finding] = run(export("2026-12-01 09:00", 50_000), FakeHistory(exports=habit))
    assert finding.evidence["median_daily_rows"] == 5_000
    assert finding.evidence["ratio"] == 10.0
    with translation.override("en"):
        assert rule.describe(finding.evidence) == (
            "Exported 50,000 rows in one export within 24 hours, 10.0 times their median of "
            "5,000 rows a day over the previous 30 days.")


def test_days_without_exports_count_as_zero_in_the_median():
    sparse = daily(50_000, days=10)  # 10 of 30 days: the median is 0
    [finding] = run(export("2026-12-01 09:00", 20_000), FakeHistory(exports=sparse))
    assert finding.evidence["median_daily_rows"] == 0


def test_other_people_exports_do_not_count():
    theirs = [export("2026-12-01 08:00", 9_000, user_id=8)]
    assert run(export("2026-12-01 09:00", 2_000), FakeHistory(exports=theirs)) == []


def test_the_same_window_is_one_alert_and_sign_ins_are_not_judged():
    a = export("2026-12-01 09:00", 12_000)
    b = export("2026-12-01 10:00", 100)
    [fa] = run(a, FakeHistory(exports=[a, b]))
    [fb] = run(b, FakeHistory(exports=[a, b]))
    assert fa.dedup_key == fb.dedup_key == "mass_export:7:2026-12-01"
    assert fb.event_ids == (a.id, b.id)
    assert rule.evaluate(signin("2026-12-01 09:00"), FakeHistory(), DEFAULTS, TENANT) == []


def test_an_export_by_someone_deleted_is_not_judged():
    assert run(export("2026-12-01 09:00", 10**6, user_id=None), FakeHistory()) == []


def test_tuned_thresholds():
    params = rule.params_from({"min_rows": "100", "multiplier": 3, "window_hours": 1})
    habit = daily(100)
    assert len(run(export("2026-12-01 09:00", 300), FakeHistory(exports=habit), params)) == 1
    assert run(export("2026-12-01 09:00", 299), FakeHistory(exports=habit), params) == []
    # A one-hour window: an export 61 minutes earlier is outside it.
    earlier = export("2026-12-01 07:59", 200)
    assert run(export("2026-12-01 09:00", 150), FakeHistory(exports=[*habit, earlier]),
               params) == []


@pytest.mark.parametrize(("field", "value"), [("min_rows", 0), ("min_rows", -1),
                                              ("min_rows", 10**10), ("multiplier", 1),
                                              ("multiplier", "ten"), ("window_hours", 0),
                                              ("baseline_days", 10**9)])
def test_bad_values_are_refused_under_their_field(field, value):
    with pytest.raises(ValidationError) as caught:
        rule.params_from({field: value})
    assert list(caught.value.message_dict) == [field]


def test_many_small_exports_are_a_finding_by_their_number():
    pieces = [export(at("2026-12-01 00:00") + dt.timedelta(minutes=10 * n), 20) for n in range(50)]
    [finding] = run(pieces[-1], FakeHistory(exports=pieces))
    assert finding.evidence["by_exports"] is True and finding.evidence["by_rows"] is False
    assert finding.evidence["exports"] == 50
    with translation.override("en"):
        assert rule.describe(finding.evidence) == (
            "Ran 50 exports (1,000 rows) within 24 hours; this person exported nothing on most "
            "of the previous 30 days.")
    assert run(pieces[-2], FakeHistory(exports=pieces[:-1])) == []  # 49


def test_someone_who_exports_often_is_judged_by_their_median_of_exports():
    habit = [export(at("2026-11-29 12:00") - dt.timedelta(days=d, minutes=m), 10)
             for d in range(30) for m in range(0, 60, 10)]  # six a day
    pieces = [export(at("2026-12-01 00:00") + dt.timedelta(minutes=10 * n), 10) for n in range(59)]
    assert run(pieces[-1], FakeHistory(exports=[*habit, *pieces])) == []  # 59 < 10 x 6
    last = export("2026-12-01 09:55", 10)
    [finding] = run(last, FakeHistory(exports=[*habit, *pieces, last]))
    assert finding.evidence["exports_ratio"] == 10.0
    with translation.override("en"):
        assert "10.0 times their median of 6 exports a day" in rule.describe(finding.evidence)
