"""Password spray's "Networks never judged" on the rule-settings form: an optional text field
(empty is the default, no networks), a list of CIDRs saved normalised, a bad one a field error."""

from __future__ import annotations

import pytest

from alerts.models import RuleSetting
from tests.alerts.triage_support import quiet_detector  # noqa: F401

pytestmark = pytest.mark.django_db


def _post(client, networks: str):
    return client.post("/alerts/rules/", {
        "rule": "password_spray", "password_spray-enabled": "on",
        "password_spray-mode": "alert", "password_spray-severity": "high",
        "password_spray-p_accounts": "6", "password_spray-p_minutes": "10",
        "password_spray-p_ipv4_prefix": "24", "password_spray-p_ipv6_prefix": "64",
        "password_spray-p_ignore_networks": networks})


def test_the_field_is_on_the_form(two_tenants, signed_in):
    page = signed_in(two_tenants.a.admin).get("/alerts/rules/").content.decode()
    assert 'name="password_spray-p_ignore_networks"' in page
    assert "Networks never judged" in page


def test_saving_with_no_networks_and_with_two(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)
    assert _post(client, "").status_code == 302
    setting = RuleSetting.objects.for_tenant(a.tenant).get(rule="password_spray")
    assert setting.params["accounts"] == 6 and setting.params["ignore_networks"] == ""
    assert _post(client, " 10.0.0.0/8, 192.0.2.0/24 ").status_code == 302
    setting.refresh_from_db()
    assert setting.params["ignore_networks"] == "10.0.0.0/8, 192.0.2.0/24"
    page = client.get("/alerts/rules/").content.decode()
    assert 'value="10.0.0.0/8, 192.0.2.0/24"' in page


def test_a_bad_network_is_an_error_under_its_field_and_nothing_changes(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)
    assert _post(client, "10.0.0.0/8").status_code == 302
    response = _post(client, "10.0.0.0/8, 300.1.2.0/24")
    assert response.status_code == 400
    page = response.content.decode()
    field = page.index('name="password_spray-p_ignore_networks"')
    error = page.index("“300.1.2.0/24” is not a network such as 203.0.113.0/24")
    assert abs(error - field) < 1500  # beside its field, not only at the top of the page
    setting = RuleSetting.objects.for_tenant(a.tenant).get(rule="password_spray")
    assert setting.params["ignore_networks"] == "10.0.0.0/8"
