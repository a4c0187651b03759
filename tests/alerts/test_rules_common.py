"""The rules' shared helpers, and every rule against odd input: never a crashed batch."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.rules import RULES
from alerts.rules.base import Event, ExportSample, Place, TenantContext
from alerts.rules.common import (
    dedup_key,
    device_label,
    network_of,
    params_data,
    place_label,
)
from alerts.rules.countries import NAMES, country_name
from tests.alerts.fakes import FakeHistory, at


def test_dedup_keys_fit_the_column_and_stay_distinct():
    short = dedup_key("brute_force", "ana@acme.example", "2026-12-01T10:00:00+00:00")
    assert short == "brute_force:ana@acme.example:2026-12-01T10:00:00+00:00"
    long_a = dedup_key("brute_force", "a" * 300, "x")
    long_b = dedup_key("brute_force", "a" * 300, "y")
    assert len(long_a) == len(long_b) == 200
    assert long_a != long_b
    assert long_a.startswith("brute_force:aaa")


def test_days_are_the_tenant_calendar_days():
    from alerts.rules.common import local_day
    assert local_day(at("2026-12-01 22:59"), "Europe/Berlin") == "2026-12-01"
    assert local_day(at("2026-12-01 23:00"), "Europe/Berlin") == "2026-12-02"
    assert local_day(at("2026-12-01 03:00"), "America/New_York") == "2026-11-30"
    assert local_day(at("2026-12-01 03:00"), "Not/A_Zone") == "2026-12-01"


@pytest.mark.parametrize(("ip", "network"), [
    ("203.0.113.77", "203.0.113.0/24"), ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.9", "198.51.100.0/24"), (" 192.0.2.1 ", "192.0.2.0/24"),
    ("", None), ("not-an-ip", None), ("300.1.1.1", None),
])
def test_networks_of_addresses(ip, network):
    assert network_of(ip, v4_prefix=24, v6_prefix=64) == network


def test_labels_read_well_and_never_fail():
    with translation.override("en"):
        assert device_label("Chrome", "Windows", "mobile") == "Chrome on Windows (Mobile)"
        assert device_label("", None, "gizmo") == "unknown on unknown (gizmo)"
        assert place_label("DE", "Berlin") == "Berlin, Germany"
        assert place_label("", "") == "an unknown country"
        assert place_label("XZ") == "XZ"
        assert country_name("gb") == "United Kingdom"
    assert len(NAMES) == 249


def test_params_data_is_json_and_keeps_times_as_text():
    module = RULES["unusual_hour"]
    data = params_data(module.params_from({"quiet_start": "22:30"}))
    assert data["quiet_start"] == "22:30" and data["severity"] == "low"
    assert json.loads(json.dumps(data)) == data


def test_a_setting_that_is_not_a_mapping_is_refused():
    with pytest.raises(ValidationError):
        RULES["new_device"].params_from("days=3")  # type: ignore[arg-type]


# --- odd input: every rule, any event ----------------------------------------------------------

TEXT = st.text(max_size=300)
IPS = st.one_of(st.ip_addresses().map(str), TEXT, st.just(""))
# Hypothesis takes naive bounds and attaches the zone itself.
TIMES = st.datetimes(min_value=dt.datetime(2025, 1, 1),  # noqa: DTZ001
                     max_value=dt.datetime(2027, 12, 31),  # noqa: DTZ001
                     timezones=st.just(dt.UTC))
PLACES = st.one_of(st.none(), st.builds(
    Place, country=st.sampled_from(["", "DE", "US", "FR", "ZZ"]),
    latitude=st.one_of(st.none(), st.floats(-90, 90)),
    longitude=st.one_of(st.none(), st.floats(-180, 180)),
    accuracy_km=st.floats(0, 3000), city=TEXT))
OUTCOMES = st.sampled_from(["success", "failure", "denied", "challenge", "signout"])
REASONS = st.sampled_from(["", "bad_credentials", "locked_out", "account_throttled",
                           "network_denied", "hours_monitor", "password_ok", "whatever"])


USER_IDS = st.sampled_from([None, 7, 8])


@st.composite
def events(draw, user_ids=USER_IDS):
    return Event(
        id=draw(st.integers(1, 10**12)), tenant_id=1, user_id=draw(user_ids),
        login=draw(st.sampled_from(["ana@acme.example", "bo@acme.example", "", "x" * 260])),
        occurred_at=draw(TIMES), outcome=draw(OUTCOMES), reason=draw(REASONS), ip=draw(IPS),
        country=draw(st.sampled_from(["", "DE", "US", "??"])), browser_family=draw(TEXT),
        os_family=draw(st.sampled_from(["", "Windows", "Linux"])),
        device_type=draw(st.sampled_from(["", "desktop", "mobile", "other"])),
        place=draw(PLACES),
    )


SAMPLES = st.builds(ExportSample, id=st.integers(1, 10**12), tenant_id=st.just(1),
                    user_id=st.sampled_from([None, 7]), occurred_at=TIMES,
                    dataset=st.sampled_from(["signins", "exports"]),
                    row_count=st.integers(-5, 10**7))
ZONES = st.sampled_from(["Europe/Berlin", "America/New_York", "UTC", "", "No/Such_Zone"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events(), history=st.lists(events(), max_size=30),
       samples=st.lists(SAMPLES, max_size=30), sample=SAMPLES, zone=ZONES)
def test_no_rule_fails_on_odd_input_and_its_findings_are_json(event, history, samples, sample,
                                                               zone):
    tenant = TenantContext(tenant_id=1, timezone=zone)
    past = FakeHistory([*history, event], exports=[*samples, sample])
    for code, module in RULES.items():
        params = module.params_from({})
        if code == "mass_export":
            findings = module.evaluate_export(sample, past, params, tenant)
        else:
            findings = module.evaluate(event, past, params, tenant)
        for finding in findings:
            assert len(finding.dedup_key) <= 200
            evidence = json.loads(json.dumps(finding.evidence, allow_nan=False))
            with translation.override("en"):
                assert module.describe(evidence)


def test_durations_read_as_minutes_then_hours():
    from alerts.rules.common import duration
    with translation.override("en"):
        assert [duration(m) for m in (0, 1, 20.4, 119, 120, 210, 60 * 22)] == [
            "0 minutes", "1 minute", "20 minutes", "119 minutes", "2 hours", "3.5 hours",
            "22 hours"]
        assert duration(None) == "?"


def test_figures_are_grouped_and_odd_ones_read_as_a_question_mark():
    from alerts.rules.common import num
    with translation.override("en"):
        assert [num(2436.4), num(10_000), num(9.96, 1)] == ["2,436", "10,000", "10.0"]
        assert [num(float("nan")), num(float("inf")), num("12"), num(True)] == ["?"] * 4


@given(st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str),
                 st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,4}){3}\Z"), st.text(max_size=20)),
       st.sampled_from([16, 24, 32]), st.sampled_from([48, 64, 128]))
def test_the_fast_network_path_agrees_with_ipaddress(ip, v4, v6):
    import ipaddress
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        expected = None
    else:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        prefix = v4 if address.version == 4 else v6
        expected = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    assert network_of(ip, v4_prefix=v4, v6_prefix=v6) == expected


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=10)
EVIDENCE_KEYS = sorted({"days", "country", "city", "known_countries", "browser_family",
                        "os_family", "device_type", "to_country", "from_country", "distance_km",
                        "shortest_km", "elapsed_minutes", "speed_kmh", "accuracy_km", "quiet",
                        "outside_usual", "usual_hours", "local_time", "timezone", "failures",
                        "login", "minutes", "ip_count", "threshold", "locked_out", "throttled",
                        "account_count", "network", "same_ip", "success_ip", "policy", "mode",
                        "ip", "first_success_at", "rows", "exports", "ratio", "exports_ratio",
                        "by_rows", "by_exports", "median_daily_rows", "median_daily_exports",
                        "window_hours", "baseline_days", "quiet_start", "quiet_end",
                        "learned_from", "usual_days"})


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(EVIDENCE_KEYS), JSON_VALUES, max_size=12))
def test_describe_never_fails_on_stored_evidence_of_any_shape(evidence):
    with translation.override("en"):
        for module in RULES.values():
            assert isinstance(module.describe(evidence), str)
