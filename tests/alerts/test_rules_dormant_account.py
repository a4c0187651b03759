"""Dormant account: a success after N days without one, never the first success ever."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import dormant_account as rule
from alerts.rules.base import Severity
from tests.alerts.fakes import TENANT, FakeHistory, failure, habit, signin

DEFAULTS = rule.params_from({})


def run(event, history, params=DEFAULTS):
    return rule.evaluate(event, history, params, TENANT)


def test_a_success_after_61_days_is_a_finding():
    earlier = habit("2026-08-01", days=30)  # the last on 30 August, 09:00
    event = signin("2026-10-30 10:00", ip="203.0.113.3", country="NL")
    [finding] = run(event, FakeHistory([*earlier, event]))
    assert finding.severity == Severity.MEDIUM
    assert finding.evidence["first_success_at"] == "2026-08-01T09:00:00+00:00"
    assert finding.dedup_key == "dormant_account:7:2026-10-30"
    with translation.override("en"):
        assert rule.describe(finding.evidence) == (
            "Signed in from 203.0.113.3 (Netherlands) after at least 60 days without a "
            "successful sign-in; the account first signed in on 2026-08-01.")


def test_a_success_within_60_days_is_no_finding():
    earlier = habit("2026-08-01", days=30)
    assert run(signin("2026-10-28 10:00"), FakeHistory(earlier)) == []


def test_the_first_success_ever_is_not_dormant():
    event = signin("2026-12-01 10:00")
    assert run(event, FakeHistory([event])) == []
    # Failures long ago are not sign-ins.
    assert run(event, FakeHistory([failure("2026-01-01 10:00"), event])) == []


def test_successes_that_happened_later_but_arrived_first_do_not_hide_or_make_dormancy():
    # Sign-ins in June and on 2 December; a late-arriving event of 1 December is judged by June.
    june = signin("2026-06-01 10:00")
    late = signin("2026-12-01 10:00")
    after = signin("2026-12-02 10:00")
    assert len(run(late, FakeHistory([june, late, after]))) == 1
    assert run(after, FakeHistory([june, late, after])) == []


def test_other_people_and_failures_are_not_judged():
    earlier = habit("2026-08-01", days=30, user_id=8)
    assert run(signin("2026-12-01 10:00"), FakeHistory(earlier)) == []
    assert run(failure("2026-12-01 10:00"), FakeHistory(habit("2026-08-01", days=3))) == []


def test_a_shorter_dormancy():
    params = rule.params_from({"days": 7})
    earlier = habit("2026-11-01", days=3)
    assert len(run(signin("2026-11-11 10:00"), FakeHistory(earlier), params)) == 1
    assert run(signin("2026-11-09 10:00"), FakeHistory(earlier), params) == []


@pytest.mark.parametrize("value", [0, -60, 10**9, "sixty", 2.5])
def test_bad_days_are_refused(value):
    with pytest.raises(ValidationError) as caught:
        rule.params_from({"days": value})
    assert list(caught.value.message_dict) == ["days"]
