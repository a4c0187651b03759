"""Correct password, blocked by policy: network or hours refusals, enforced or monitored."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import blocked_by_policy as rule
from alerts.rules.base import Severity
from tests.alerts.fakes import TENANT, FakeHistory, failure, signin

DEFAULTS = rule.params_from({})


def run(event, history=None, params=DEFAULTS):
    return rule.evaluate(event, history or FakeHistory(), params, TENANT)


@pytest.mark.parametrize(("outcome", "reason", "policy", "mode", "severity"), [
    ("denied", "network_denied", "network", "enforce", Severity.HIGH),
    ("denied", "hours_denied", "hours", "enforce", Severity.HIGH),
    ("success", "network_monitor", "network", "monitor", Severity.MEDIUM),
    ("success", "hours_monitor", "hours", "monitor", Severity.MEDIUM),
])
def test_each_refusal_is_a_finding(outcome, reason, policy, mode, severity):
    event = signin("2026-12-01 10:00", outcome=outcome, reason=reason, ip="203.0.113.8",
                   country="BR")
    [finding] = run(event)
    assert finding.severity == severity
    assert (finding.evidence["policy"], finding.evidence["mode"]) == (policy, mode)
    assert finding.dedup_key == ("blocked_by_policy:7:network:203.0.113.0/24" if policy == "network"
                                 else "blocked_by_policy:7:hours")
    with translation.override("en"):
        sentence = rule.describe(finding.evidence)
    assert sentence.startswith("The correct password was used from 203.0.113.8 (Brazil)")
    assert ("monitor mode let the sign-in through" in sentence) == (mode == "monitor")


@pytest.mark.parametrize(("outcome", "reason"), [
    ("success", "password_ok"), ("success", "mfa_verified"), ("failure", "bad_credentials"),
    ("failure", "locked_out"), ("challenge", "mfa_challenge"),
])
def test_other_attempts_are_no_finding(outcome, reason):
    assert run(signin("2026-12-01 10:00", outcome=outcome, reason=reason)) == []


def test_the_tenant_severity_applies_and_monitor_is_one_step_lower():
    low = rule.params_from({"severity": "medium"})
    assert run(signin("2026-12-01 10:00", outcome="denied", reason="hours_denied"),
               params=low)[0].severity == Severity.MEDIUM
    assert run(signin("2026-12-01 10:00", reason="hours_monitor"),
               params=low)[0].severity == Severity.LOW


def test_a_trusted_network_and_an_unknown_person_do_not_fire():
    event = signin("2026-12-01 10:00", outcome="denied", reason="network_denied", ip="192.0.2.4")
    assert run(event, FakeHistory(trusts=[(7, "network", "192.0.2.0/24")])) == []
    assert run(failure("2026-12-01 10:00", reason="network_denied", user_id=None)) == []


def test_severity_is_checked():
    with pytest.raises(ValidationError) as caught:
        rule.params_from({"severity": "critical"})
    assert list(caught.value.message_dict) == ["severity"]


def test_repeats_from_one_network_or_outside_hours_grow_one_alert():
    a = run(signin("2026-12-01 10:00", outcome="denied", reason="network_denied", ip="203.0.113.8"))
    b = run(signin("2026-12-01 11:00", outcome="denied", reason="network_denied", ip="203.0.113.99"))
    c = run(signin("2026-12-01 11:00", outcome="denied", reason="network_denied", ip="192.0.2.1"))
    assert a[0].dedup_key == b[0].dedup_key != c[0].dedup_key
    d = run(signin("2026-12-01 23:00", outcome="denied", reason="hours_denied", ip="203.0.113.8"))
    e = run(signin("2026-12-02 01:00", outcome="denied", reason="hours_denied", ip="192.0.2.1"))
    assert d[0].dedup_key == e[0].dedup_key
