"""Password spray: one IP or its /24 (/64) failing on K distinct accounts within M minutes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import password_spray
from alerts.rules.base import Severity
from tests.alerts.fakes import TENANT, FakeHistory, at, failure, signin

DEFAULTS = password_spray.params_from({})


def spray(start, accounts, *, ips, step_seconds=60, tenant_id=1):
    first = at(start)
    return [failure(first + dt.timedelta(seconds=step_seconds * n), login=f"user{n}@acme.example",
                    user_id=100 + n, ip=ips[n % len(ips)], tenant_id=tenant_id)
            for n in range(accounts)]


def run(event, history, params=DEFAULTS):
    return password_spray.evaluate(event, history, params, TENANT)


def test_five_accounts_from_one_address_is_a_spray():
    events = spray("2026-12-01 10:00", 5, ips=["203.0.113.7"])
    assert run(events[3], FakeHistory(events[:4])) == []
    [finding] = run(events[4], FakeHistory(events))
    assert finding.severity == Severity.HIGH
    assert finding.user_id is None
    assert finding.evidence["network"] == "203.0.113.0/24"
    assert finding.evidence["account_count"] == 5
    assert finding.evidence["accounts"] == [f"user{n}@acme.example" for n in range(5)]
    assert finding.dedup_key == "password_spray:203.0.113.0/24:2026-12-01"
    with translation.override("en"):
        assert password_spray.describe(finding.evidence) == (
            "5 failed sign-ins on 5 different accounts from the network 203.0.113.0/24 within "
            "10 minutes (the threshold is 5 accounts).")


def test_rotating_addresses_within_a_24_is_one_source():
    events = spray("2026-12-01 10:00", 5, ips=[f"203.0.113.{n}" for n in range(1, 6)])
    [finding] = run(events[-1], FakeHistory(events))
    assert finding.evidence["ip_count"] == 5
    single = password_spray.params_from({"ipv4_prefix": 32})
    assert run(events[-1], FakeHistory(events), single) == []


def test_an_ipv6_64_is_one_source_and_another_64_is_not():
    ips = [f"2001:db8:aa:1::{n:x}" for n in range(1, 6)]
    events = spray("2026-12-01 10:00", 5, ips=ips)
    [finding] = run(events[-1], FakeHistory(events))
    assert finding.evidence["network"] == "2001:db8:aa:1::/64"
    split = spray("2026-12-01 10:00", 5, ips=["2001:db8:aa:1::1", "2001:db8:aa:2::1"])
    assert run(split[-1], FakeHistory(split)) == []


def test_an_ipv4_mapped_address_is_its_ipv4_network():
    events = spray("2026-12-01 10:00", 4, ips=["203.0.113.7"])
    event = failure("2026-12-01 10:05", login="last@acme.example", ip="::ffff:203.0.113.9")
    [finding] = run(event, FakeHistory([*events, event]))
    assert finding.evidence["network"] == "203.0.113.0/24"


def test_many_failures_on_one_account_are_not_a_spray():
    events = [failure(at("2026-12-01 10:00") + dt.timedelta(seconds=n), ip="203.0.113.7")
              for n in range(20)]
    assert run(events[-1], FakeHistory(events)) == []


def test_accounts_outside_the_window_or_of_another_tenant_do_not_count():
    events = spray("2026-12-01 10:00", 5, ips=["203.0.113.7"], step_seconds=151)  # 10 min 4 s
    assert run(events[-1], FakeHistory(events)) == []
    theirs = spray("2026-12-01 10:00", 4, ips=["203.0.113.7"], tenant_id=2)
    mine = failure("2026-12-01 10:05", login="me@acme.example", ip="203.0.113.7")
    assert run(mine, FakeHistory([*theirs, mine])) == []


def test_successes_and_addresses_that_do_not_parse_are_ignored():
    events = spray("2026-12-01 10:00", 5, ips=["203.0.113.7"])
    assert run(signin("2026-12-01 10:06", ip="203.0.113.7"), FakeHistory(events)) == []
    assert run(failure("2026-12-01 10:06", ip=""), FakeHistory(events)) == []
    assert run(failure("2026-12-01 10:06", ip="unknown"), FakeHistory(events)) == []


@pytest.mark.parametrize(("field", "value"), [("accounts", 0), ("accounts", -3),
                                              ("accounts", 10**9), ("minutes", "ten"),
                                              ("ipv4_prefix", 8), ("ipv4_prefix", 33),
                                              ("ipv6_prefix", 129)])
def test_bad_values_are_refused_under_their_field(field, value):
    with pytest.raises(ValidationError) as caught:
        password_spray.params_from({field: value})
    assert list(caught.value.message_dict) == [field]


def test_the_office_network_can_be_left_out():
    events = spray("2026-12-01 10:00", 5, ips=["203.0.113.7"])
    params = password_spray.params_from({"ignore_networks": " 203.0.113.0/25 ,2001:db8::/48,"})
    assert params.ignore_networks == "203.0.113.0/25, 2001:db8::/48"
    assert run(events[-1], FakeHistory(events), params) == []
    elsewhere = spray("2026-12-01 10:00", 5, ips=["203.0.113.200"])  # the other half of the /24
    assert len(run(elsewhere[-1], FakeHistory(elsewhere), params)) == 1
    v6 = spray("2026-12-01 10:00", 5, ips=["2001:db8:0:7::1"])
    assert run(v6[-1], FakeHistory(v6), params) == []


@pytest.mark.parametrize("value", ["203.0.113.0/33", "office", "10.0.0.0/8, nope",
                                   ", ".join(f"10.{n}.0.0/16" for n in range(21)), 42])
def test_bad_ignored_networks_are_refused(value):
    with pytest.raises(ValidationError) as caught:
        password_spray.params_from({"ignore_networks": value})
    assert list(caught.value.message_dict) == ["ignore_networks"]


def test_saved_ignored_networks_load_from_the_setting():
    from alerts.rules.common import params_data
    params = password_spray.params_from({"ignore_networks": "192.0.2.0/24"})
    assert password_spray.params_from(params_data(params)) == params
