"""Success after failures: a success preceded by at least N failures on the account in M minutes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import success_after_failures as rule
from alerts.rules.base import Severity
from tests.alerts.fakes import TENANT, FakeHistory, at, failure, signin

DEFAULTS = rule.params_from({})


def failures(start, count, *, step_seconds=60, **kwargs):
    first = at(start)
    return [failure(first + dt.timedelta(seconds=step_seconds * n), **kwargs) for n in range(count)]


def run(event, history, params=DEFAULTS):
    return rule.evaluate(event, history, params, TENANT)


def test_a_success_after_five_failures_from_the_same_address():
    before = failures("2026-12-01 10:00", 5, ip="203.0.113.5")
    event = signin("2026-12-01 10:06", ip="203.0.113.5")
    [finding] = run(event, FakeHistory([*before, event]))
    assert finding.severity == Severity.HIGH
    assert finding.event_ids == (*(e.id for e in before), event.id)
    assert finding.evidence["same_ip"] is True
    with translation.override("en"):
        assert rule.describe(finding.evidence) == (
            "ana@acme.example signed in from 203.0.113.5 after 5 failed attempts within 15 "
            "minutes, some of them from that same address.")


def test_failures_from_elsewhere_are_said_so():
    before = failures("2026-12-01 10:00", 6, ip="198.51.100.1")
    [finding] = run(signin("2026-12-01 10:10", ip="203.0.113.5"), FakeHistory(before))
    assert finding.evidence["same_ip"] is False
    with translation.override("en"):
        assert rule.describe(finding.evidence).endswith("from other addresses.")


def test_four_failures_or_older_ones_are_no_finding():
    assert run(signin("2026-12-01 10:06"), FakeHistory(failures("2026-12-01 10:00", 4))) == []
    old = failures("2026-12-01 09:40", 5)  # the last at 09:44, 16 minutes before
    assert run(signin("2026-12-01 10:00"), FakeHistory(old)) == []


def test_failures_after_the_success_do_not_count():
    later = failures("2026-12-01 10:01", 5)
    assert run(signin("2026-12-01 10:00"), FakeHistory(later)) == []


def test_failures_on_another_account_do_not_count():
    theirs = failures("2026-12-01 10:00", 5, login="bo@acme.example")
    assert run(signin("2026-12-01 10:06"), FakeHistory(theirs)) == []


def test_a_failure_is_not_judged_and_a_trusted_network_does_not_fire():
    before = failures("2026-12-01 10:00", 6)
    assert run(before[-1], FakeHistory(before)) == []
    event = signin("2026-12-01 10:06", ip="10.1.2.3")
    assert run(event, FakeHistory(before, trusts=[(7, "network", "10.0.0.0/8")])) == []


def test_two_successes_in_one_window_are_one_alert():
    before = failures("2026-12-01 10:00", 5)
    a = run(signin("2026-12-01 10:06"), FakeHistory(before))
    b = run(signin("2026-12-01 10:08"), FakeHistory(before))
    assert a[0].dedup_key == b[0].dedup_key


@pytest.mark.parametrize(("field", "value"), [("failures", 0), ("failures", -1),
                                              ("failures", 10**9), ("minutes", 0),
                                              ("minutes", "x")])
def test_bad_values_are_refused_under_their_field(field, value):
    with pytest.raises(ValidationError) as caught:
        rule.params_from({field: value})
    assert list(caught.value.message_dict) == [field]
