"""Brute force: N failures on one account within M minutes, locked and throttled ones included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import brute_force
from alerts.rules.base import Severity
from tests.alerts.fakes import TENANT, FakeHistory, at, failure, signin

DEFAULTS = brute_force.params_from({})


def burst(start, count, *, step_seconds=60, **kwargs):
    first = at(start)
    return [failure(first + dt.timedelta(seconds=step_seconds * n), **kwargs) for n in range(count)]


def run(event, history, params=DEFAULTS):
    return brute_force.evaluate(event, history, params, TENANT)


def test_the_tenth_failure_within_fifteen_minutes_is_a_finding():
    events = burst("2026-12-01 10:00", 10, ip="203.0.113.5")
    history = FakeHistory(events)
    assert run(events[8], history) == []  # the 9th: 9 failures so far
    [finding] = run(events[9], history)
    assert finding.severity == Severity.MEDIUM
    assert finding.event_ids == tuple(e.id for e in events)
    assert finding.evidence["failures"] == 10
    assert finding.evidence["ip_count"] == 1
    assert finding.dedup_key == "brute_force:ana@acme.example:2026-12-01"
    with translation.override("en"):
        assert brute_force.describe(finding.evidence) == (
            "10 failed sign-ins on ana@acme.example within 15 minutes from one IP address "
            "(the threshold is 10).")


def test_the_same_answer_whether_or_not_the_history_holds_the_event_itself():
    events = burst("2026-12-01 10:00", 10)
    with_event = run(events[9], FakeHistory(events))
    without_event = run(events[9], FakeHistory(events[:9]))
    assert with_event == without_event
    assert len(with_event) == 1


def test_failures_spread_wider_than_the_window_are_no_finding():
    events = burst("2026-12-01 10:00", 10, step_seconds=100)  # 15 minutes for 10: exactly in
    assert len(run(events[9], FakeHistory(events))) == 1
    events = burst("2026-12-01 10:00", 10, step_seconds=101)  # 15 min 9 s: the first is out
    assert run(events[9], FakeHistory(events)) == []


def test_attempts_while_locked_throttled_and_from_many_addresses_count():
    events = [*burst("2026-12-01 10:00", 4, ip="203.0.113.1"),
              *burst("2026-12-01 10:05", 4, ip="198.51.100.2", reason="locked_out"),
              *burst("2026-12-01 10:09", 2, ip="2001:db8::5", reason="account_throttled")]
    [finding] = run(events[-1], FakeHistory(events))
    assert (finding.evidence["locked_out"], finding.evidence["throttled"]) == (4, 2)
    assert finding.evidence["reasons"] == {"bad_credentials": 4, "locked_out": 4,
                                           "account_throttled": 2}
    assert finding.evidence["ip_count"] == 3
    with translation.override("en"):
        assert brute_force.describe(finding.evidence) == (
            "10 failed sign-ins on ana@acme.example within 15 minutes from 3 IP addresses, 6 of "
            "them refused unchecked while the account was locked or throttled (the threshold is "
            "10).")


def test_successes_other_accounts_and_other_tenants_do_not_count():
    mine = burst("2026-12-01 10:00", 5)
    others = [*burst("2026-12-01 10:00", 5, login="bo@acme.example"),
              *burst("2026-12-01 10:00", 5, tenant_id=2),
              *[signin(e.occurred_at + dt.timedelta(seconds=1)) for e in mine]]
    assert run(mine[-1], FakeHistory([*mine, *others])) == []


def test_a_success_is_not_judged_by_this_rule():
    events = burst("2026-12-01 10:00", 12)
    assert run(signin("2026-12-01 10:13"), FakeHistory(events)) == []


def test_a_sustained_attack_grows_one_alert_a_day_in_the_tenant_zone():
    events = burst("2026-12-01 10:00", 40, step_seconds=30)  # 10:00 to 10:19:30, across windows
    keys = {f.dedup_key for e in events[9:] for f in run(e, FakeHistory(events))}
    assert keys == {"brute_force:ana@acme.example:2026-12-01"}
    # Past midnight in Berlin (23:00 UTC) is the next day's alert.
    night = burst("2026-12-01 22:50", 20, step_seconds=60)
    keys = {f.dedup_key for e in night[9:] for f in run(e, FakeHistory(night))}
    assert keys == {"brute_force:ana@acme.example:2026-12-01",
                    "brute_force:ana@acme.example:2026-12-02"}


def test_an_unknown_account_is_judged_by_its_login():
    events = burst("2026-12-01 10:00", 10, user_id=None, login="nobody@acme.example",
                   reason="unknown_account")
    [finding] = run(events[-1], FakeHistory(events))
    assert finding.user_id is None
    assert finding.evidence["login"] == "nobody@acme.example"


def test_a_very_long_login_still_fits_the_key_column():
    login = "a" * 240 + "@acme.example"
    events = burst("2026-12-01 10:00", 10, login=login)
    [finding] = run(events[-1], FakeHistory(events))
    assert len(finding.dedup_key) <= 200


def test_tuned_thresholds():
    params = brute_force.params_from({"failures": "3", "minutes": "2"})
    events = burst("2026-12-01 10:00", 3, step_seconds=50)
    assert len(run(events[-1], FakeHistory(events), params)) == 1
    events = burst("2026-12-01 10:00", 3, step_seconds=70)
    assert run(events[-1], FakeHistory(events), params) == []


@pytest.mark.parametrize(("field", "value"), [("failures", 0), ("failures", 1), ("failures", -10),
                                              ("failures", 10**9), ("minutes", 0),
                                              ("minutes", "15 minutes"), ("minutes", 10**9)])
def test_bad_values_are_refused_under_their_field(field, value):
    with pytest.raises(ValidationError) as caught:
        brute_force.params_from({field: value})
    assert list(caught.value.message_dict) == [field]
