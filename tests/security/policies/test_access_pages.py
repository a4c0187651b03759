from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from activity.models import AuditLogEntry
from security.policies.base import Mode
from security.policies.hours.models import SignInHoursPolicy
from security.policies.network.models import NetworkAllowEntry, NetworkPolicy
from security.policies.network.selectors import network_policy_get

pytestmark = pytest.mark.django_db

NETWORK = "/policies/network/"
HOURS = "/policies/hours/"
MONDAY_EVENING = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
MONDAY_MORNING = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def network_form(entries: str = "", mode: str = Mode.MONITOR, scope: str = "everyone", **extra: str) -> dict:
    return {"entries": entries, "mode": mode, "scope": scope, **extra}


def hours_form(mode: str = Mode.MONITOR, scope: str = "everyone", **days: str) -> dict:
    data = {f"day_{d}": "" for d in range(7)}
    data.update(days)
    return {**data, "mode": mode, "scope": scope}


# --- Access by role -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [NETWORK, HOURS])
@pytest.mark.parametrize("role", ["member", "helpdesk"])
def test_roles_without_policy_view_get_403(two_tenants, signed_in, url, role):
    client = signed_in(two_tenants.a.by_role(role))
    assert client.get(url).status_code == 403
    assert client.post(url, network_form("10.0.0.0/8") | hours_form(day_0="09:00-17:00")).status_code == 403
    assert not NetworkAllowEntry.objects.exists()
    assert not SignInHoursPolicy.objects.exclude(mode=Mode.OFF).exists()


def test_anonymous_is_sent_to_signin(client, two_tenants):
    response = client.get(NETWORK)
    assert response.status_code == 302 and response["Location"].startswith("/signin/")


def test_auditor_reads_network_policy_but_cannot_post(two_tenants, signed_in):
    signed_in(two_tenants.a.owner).post(NETWORK, network_form("192.0.2.0/24 Head office"))
    client = signed_in(two_tenants.a.auditor)
    response = client.get(NETWORK)
    body = response.content.decode()
    assert response.status_code == 200
    assert "192.0.2.0/24" in body and "Head office" in body
    assert 'name="entries"' not in body and "<form method=\"post\">" not in body
    assert client.post(NETWORK, network_form("10.0.0.0/8", mode=Mode.OFF)).status_code == 403
    assert list(NetworkAllowEntry.objects.values_list("cidr", flat=True)) == ["192.0.2.0/24"]
    assert NetworkPolicy.objects.get().mode == Mode.MONITOR


def test_auditor_reads_hours_but_cannot_post(two_tenants, signed_in):
    signed_in(two_tenants.a.owner).post(HOURS, hours_form(day_0="09:00-17:00, 22:00-02:00"))
    client = signed_in(two_tenants.a.auditor)
    response = client.get(HOURS)
    body = response.content.decode()
    assert response.status_code == 200
    assert "09:00-17:00, 22:00-02:00" in body and 'name="day_0"' not in body
    assert client.post(HOURS, hours_form(mode=Mode.OFF)).status_code == 403
    assert SignInHoursPolicy.objects.get().mode == Mode.MONITOR


# --- Network page -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_save_the_allowlist(two_tenants, signed_in, role):
    client = signed_in(two_tenants.a.by_role(role))
    text = "# offices\n192.0.2.0/24   Head office\n2001:DB8::/32\tIPv6 lab\n\n127.0.0.1 this machine\n"
    response = client.post(NETWORK, network_form(text, mode=Mode.ENFORCE, scope="admin_roles"))
    assert response.status_code == 302 and response["Location"] == NETWORK
    policy = NetworkPolicy.objects.get(tenant=two_tenants.a.tenant)
    assert (policy.mode, policy.scope, policy.updated_by) == (Mode.ENFORCE, "admin_roles", two_tenants.a.by_role(role))
    assert sorted(NetworkAllowEntry.objects.values_list("cidr", "label")) == [
        ("127.0.0.1/32", "this machine"), ("192.0.2.0/24", "Head office"), ("2001:db8::/32", "IPv6 lab")]
    page = client.get(NETWORK).content.decode()
    assert "2001:db8::/32 IPv6 lab" in page  # the textarea shows the normalised list


def test_page_shows_own_ip_from_remote_addr_not_a_forged_header(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    client.post(NETWORK, network_form("10.0.0.0/8 VPN"))
    inside = client.get(NETWORK, REMOTE_ADDR="10.2.3.4", HTTP_X_FORWARDED_FOR="198.51.100.1").content.decode()
    assert 'data-testid="current-ip">10.2.3.4<' in inside
    assert 'data-testid="current-ip-inside"><span class="badge active">' in inside
    outside = client.get(NETWORK, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="10.2.3.4").content.decode()
    assert 'data-testid="current-ip">198.51.100.1<' in outside
    assert 'data-testid="current-ip-inside"><span class="badge suspended">' in outside


def test_self_lockout_asks_for_confirmation_then_saves(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    data = network_form("10.0.0.0/8 VPN", mode=Mode.ENFORCE)
    warned = client.post(NETWORK, data, REMOTE_ADDR="198.51.100.7")
    body = warned.content.decode()
    assert warned.status_code == 200
    assert 'data-testid="self-lockout-warning"' in body and 'name="confirm_self_lockout"' in body
    assert "198.51.100.7" in body
    assert not NetworkAllowEntry.objects.exists()
    assert network_policy_get(tenant=two_tenants.a.tenant).mode == Mode.OFF
    confirmed = client.post(NETWORK, {**data, "confirm_self_lockout": "on"}, REMOTE_ADDR="198.51.100.7")
    assert confirmed.status_code == 302
    assert NetworkPolicy.objects.get().mode == Mode.ENFORCE
    assert list(NetworkAllowEntry.objects.values_list("cidr", flat=True)) == ["10.0.0.0/8"]


def test_no_confirmation_needed_when_own_address_is_inside(two_tenants, signed_in):
    client = signed_in(two_tenants.a.owner)
    response = client.post(NETWORK, network_form("10.0.0.0/8 VPN", mode=Mode.ENFORCE), REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 302
    assert NetworkPolicy.objects.get().mode == Mode.ENFORCE


def test_confirmation_box_is_hidden_until_needed(two_tenants, signed_in):
    body = signed_in(two_tenants.a.owner).get(NETWORK).content.decode()
    assert 'name="confirm_self_lockout"' not in body


@pytest.mark.parametrize(("entries", "mode", "message"), [
    ("10.0.0.0/33", Mode.MONITOR, "is not a valid IPv4 or IPv6 network"),
    ("::/129 v6", Mode.MONITOR, "is not a valid IPv4 or IPv6 network"),
    ("not-a-network label", Mode.MONITOR, "is not a valid IPv4 or IPv6 network"),
    ("10.0.0.1/24 office", Mode.MONITOR, "Did you mean the network 10.0.0.0/24"),
    ("10.0.0.0/8 a\n10.0.0.0/8 b", Mode.MONITOR, "is listed more than once"),
    ("", Mode.ENFORCE, "would stop everyone from signing in"),
    ("# only a comment", Mode.ENFORCE, "would stop everyone from signing in"),
    ("10.0.0.0/8 " + "x" * 200, Mode.MONITOR, "longer than 100 characters"),
    ("x" * 10_240, Mode.MONITOR, "is not a valid IPv4 or IPv6 network"),
    ("10.0.0.0/8 label\n" * 700, Mode.MONITOR, "is listed more than once"),
    ("\x01\x02\x1b[31m \u202e evil", Mode.MONITOR, "is not a valid IPv4 or IPv6 network"),
    ("10.0.0.0/8 \x00", Mode.MONITOR, "Null characters are not allowed"),
    ("x" * 70_000, Mode.MONITOR, "at most 60000 characters"),
    ("10.0.0.0/8", "panic", "Select a valid choice"),
])
def test_bad_network_input_is_a_form_error_and_saves_nothing(two_tenants, signed_in, entries, mode, message):
    client = signed_in(two_tenants.a.owner)
    response = client.post(NETWORK, network_form(entries, mode=mode))
    body = response.content.decode()
    assert response.status_code == 200
    assert message.replace(",", "") in body.replace(",", "")
    assert not NetworkAllowEntry.objects.exists()
    assert network_policy_get(tenant=two_tenants.a.tenant).mode == Mode.OFF


def test_other_tenants_allowlist_is_never_shown(two_tenants, signed_in, make_client):
    globex = make_client()
    globex.post("/signin/", {"email": two_tenants.b.owner.email, "password": "Correct-horse-battery-9"})
    assert globex.post(NETWORK, network_form("203.0.113.0/24 GlobexSecretLab")).status_code == 302
    for role in ("owner", "auditor"):
        body = signed_in(two_tenants.a.by_role(role)).get(NETWORK).content.decode()
        assert "GlobexSecretLab" not in body and "203.0.113.0/24" not in body
    acme = signed_in(two_tenants.a.owner)
    acme.post(NETWORK, network_form("192.0.2.0/24 AcmeOffice"))
    assert list(NetworkAllowEntry.objects.filter(tenant=two_tenants.b.tenant).values_list("label", flat=True)) == [
        "GlobexSecretLab"]
    assert NetworkPolicy.objects.get(tenant=two_tenants.b.tenant).mode == Mode.MONITOR


def audit_of(tenant, model) -> list[AuditLogEntry]:
    ct = ContentType.objects.get_for_model(model)
    return list(AuditLogEntry.objects.filter(tenant=tenant, content_type=ct).order_by("id"))


def test_each_network_change_is_in_the_tenants_audit_trail(two_tenants, signed_in):
    tenant = two_tenants.a.tenant
    client = signed_in(two_tenants.a.owner)
    client.get(NETWORK)  # reading the defaults is not a change
    assert audit_of(tenant, NetworkPolicy) == []
    client.post(NETWORK, network_form("192.0.2.0/24 HQ"), REMOTE_ADDR="192.0.2.9")
    policy_entries = audit_of(tenant, NetworkPolicy)
    assert len(policy_entries) == 1
    assert policy_entries[0].actor_id == two_tenants.a.owner.pk
    assert policy_entries[0].remote_addr == "192.0.2.9"
    assert policy_entries[0].changes["mode"] == ["off", "monitor"]
    assert policy_entries[0].changes["allowlist"] == ["", "192.0.2.0/24 HQ"]
    client.post(NETWORK, network_form("198.51.100.0/24 Branch"))
    client.post(NETWORK, network_form("198.51.100.0/24 Branch"))  # no change, no entry
    log = audit_of(tenant, NetworkPolicy)
    assert len(log) == 2
    # Mode and scope did not change the second time: the entry says only what did.
    assert log[1].changes == {"allowlist": ["192.0.2.0/24 HQ", "198.51.100.0/24 Branch"]}
    assert audit_of(tenant, NetworkAllowEntry) == []  # the entries are told through their policy
    assert audit_of(two_tenants.b.tenant, NetworkPolicy) == audit_of(two_tenants.b.tenant, SignInHoursPolicy) == []


def test_one_allowlist_save_is_one_audit_entry_with_before_and_after(two_tenants, signed_in):
    """Defect 7: a save that replaced two entries wrote a delete and a create per entry."""
    tenant = two_tenants.a.tenant
    client = signed_in(two_tenants.a.admin)
    client.post(NETWORK, network_form("192.0.2.0/24 HQ\n10.0.0.0/8 VPN"))
    start = AuditLogEntry.objects.for_tenant(tenant).order_by("-id").values_list("id", flat=True).first()
    client.post(NETWORK, network_form("192.0.2.0/24 Head office\n198.51.100.0/24 Branch\n2001:db8::/32"))
    [entry] = AuditLogEntry.objects.for_tenant(tenant).filter(id__gt=start)
    assert (entry.content_type.model, entry.action, entry.actor_id) == (
        "networkpolicy", AuditLogEntry.Action.UPDATE, two_tenants.a.admin.pk)
    assert entry.changes == {"allowlist": ["192.0.2.0/24 HQ\n10.0.0.0/8 VPN",
                                           "192.0.2.0/24 Head office\n198.51.100.0/24 Branch\n2001:db8::/32"]}
    page = client.get("/logs/audit/").content.decode()
    assert "198.51.100.0/24 Branch" in page  # the audit trail shows it
    # Reordering the same list is no change at all.
    client.post(NETWORK, network_form("2001:db8::/32\n198.51.100.0/24 Branch\n192.0.2.0/24 Head office"))
    assert AuditLogEntry.objects.for_tenant(tenant).filter(id__gt=entry.id).count() == 0
