from __future__ import annotations

import ipaddress
import time
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from activity.clientip import UNKNOWN_IP
from activity.models import Reason
from security.policies.base import Mode, SignInContext, Verdict
from security.policies.network.models import NetworkAllowEntry, NetworkPolicy
from security.policies.network.rules import (
    NetworkRules,
    NetworkScope,
    evaluate,
    ip_allowed,
    network_entries_clean,
    parse_network,
)
from security.policies.network.selectors import network_policy_get, network_rules_for
from security.policies.network.services import network_policy_update
from tenants.roles import Role

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def rules(*cidrs: str, mode: str = Mode.ENFORCE, scope: str = NetworkScope.EVERYONE) -> NetworkRules:
    return NetworkRules.build(mode=mode, scope=scope, networks=[parse_network(c) for c in cidrs])


def decide(ip: str, policy: NetworkRules, role: str = Role.MEMBER):
    return evaluate(SignInContext(ip=ip, now=NOW, role=role), policy)


# --- Evaluation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("cidrs", "ip", "inside"), [
    (["192.0.2.7/32"], "192.0.2.7", True),
    (["192.0.2.7/32"], "192.0.2.6", False),
    (["192.0.2.7/32"], "192.0.2.8", False),
    (["192.0.2.7"], "192.0.2.7", True),  # a bare address is a /32
    (["10.0.0.0/8"], "10.0.0.0", True),  # first address
    (["10.0.0.0/8"], "10.255.255.255", True),  # last address
    (["10.0.0.0/8"], "9.255.255.255", False),  # one below
    (["10.0.0.0/8"], "11.0.0.0", False),  # one above
    (["0.0.0.0/0"], "203.0.113.1", True),
    (["0.0.0.0/0"], "255.255.255.255", True),
    (["0.0.0.0/0"], "2001:db8::1", False),  # an IPv4 catch-all does not admit IPv6
    (["::/0"], "2001:db8::1", True),
    (["::/0"], "203.0.113.1", False),
    (["2001:db8::/32"], "2001:db8::", True),
    (["2001:db8::/32"], "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", True),
    (["2001:db8::/32"], "2001:db9::", False),
    (["2001:db8::/32"], "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", False),
    (["2001:db8::1/128"], "2001:db8::1", True),
    (["2001:db8::1/128"], "2001:db8::2", False),
    (["2001:db8::1/128"], "2001:0DB8:0000::0001", True),  # any spelling of the address
    (["10.0.0.0/8"], "::ffff:10.1.2.3", True),  # IPv4-mapped client, IPv4 entry
    (["10.0.0.0/8"], "::ffff:11.1.2.3", False),
    (["::ffff:10.0.0.0/104"], "10.9.9.9", True),  # mapped entry means IPv4
    (["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"], "192.168.255.255", True),
    (["10.0.0.0/8", "10.1.0.0/16"], "10.1.2.3", True),  # overlapping entries
    (["fe80::/10"], "fe80::1%eth0", True),  # a zone index does not hide the address
])
def test_cidr_edges(cidrs, ip, inside):
    policy = rules(*cidrs)
    assert ip_allowed(ip, policy) is inside
    assert decide(ip, policy).verdict == (Verdict.ALLOW if inside else Verdict.DENY)


@pytest.mark.parametrize("ip", [UNKNOWN_IP, "::", "", "garbage", "10.0.0.1:443", "10.0.0.300",
                                "::ffff:0.0.0.0", " " * 10, "1" * 10_000])
def test_unknown_or_unparsable_client_never_matches_even_a_catch_all(ip):
    policy = rules("0.0.0.0/0", "::/0")
    assert not ip_allowed(ip, policy)
    assert decide(ip, policy) == decide("x", policy)
    assert decide(ip, policy).reason == Reason.NETWORK_DENIED


def test_enforce_denies_with_reason():
    decision = decide("198.51.100.1", rules("10.0.0.0/8"))
    assert decision.verdict == Verdict.DENY and decision.reason == Reason.NETWORK_DENIED and not decision.allowed


def test_monitor_lets_through_and_says_it_would_have_denied():
    policy = rules("10.0.0.0/8", mode=Mode.MONITOR)
    outside = decide("198.51.100.1", policy)
    assert outside.allowed and outside.monitored and outside.reason == Reason.NETWORK_MONITOR
    inside = decide("10.0.0.1", policy)
    assert inside.allowed and not inside.monitored and inside.reason == ""


def test_off_allows_everything():
    policy = rules("10.0.0.0/8", mode=Mode.OFF)
    assert decide("198.51.100.1", policy).allowed
    assert not decide("198.51.100.1", policy).monitored
    assert decide("198.51.100.1", NetworkRules()).allowed


@pytest.mark.parametrize(("role", "checked"), [
    (Role.OWNER, True), (Role.ADMIN, True), (Role.AUDITOR, False), (Role.HELPDESK, False),
    (Role.MEMBER, False),
])
def test_admin_roles_scope_applies_to_owner_and_admin_only(role, checked):
    policy = rules("10.0.0.0/8", scope=NetworkScope.ADMIN_ROLES)
    assert decide("198.51.100.1", policy, role=role).allowed is not checked
    assert decide("10.0.0.1", policy, role=role).allowed


def test_everyone_scope_applies_to_every_role():
    policy = rules("10.0.0.0/8")
    for role in Role.values:
        assert not decide("198.51.100.1", policy, role=role).allowed


def test_rules_are_frozen_and_hashable():
    policy = rules("10.0.0.0/8")
    with pytest.raises(AttributeError):
        policy.mode = Mode.OFF  # type: ignore[misc]
    assert hash(policy) == hash(rules("10.0.0.0/8"))


def test_fifty_cidrs_evaluate_fast():
    cidrs = [f"10.{i}.0.0/16" for i in range(40)] + [f"2001:db8:{i:x}::/48" for i in range(20)]
    policy = rules(*cidrs)
    started = time.perf_counter()
    for _ in range(10_000):
        decide("203.0.113.9", policy)
        decide("2001:db8:13::1", policy)
    per_call = (time.perf_counter() - started) / 20_000
    assert per_call < 50e-6  # generous for CI; measured ~2 µs
    assert decide("10.39.255.255", policy).allowed and not decide("10.40.0.0", policy).allowed


@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(8, 32)), min_size=1, max_size=60),
       st.integers(0, 2**32 - 1))
def test_range_search_agrees_with_linear_membership(nets, probe):
    networks = [ipaddress.IPv4Network((value, prefix), strict=False) for value, prefix in nets]
    policy = NetworkRules.build(mode=Mode.ENFORCE, scope=NetworkScope.EVERYONE, networks=networks)
    address = ipaddress.IPv4Address(probe)
    expected = any(address in n for n in networks) and not address.is_unspecified
    assert ip_allowed(str(address), policy) is expected


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "::/129", "garbage", "10.0.0.0/-1", "10.0.0/8",
                                 "300.0.0.0/8", "10.0.0.0/8/8", "", "2001:db8::/32x", "x" * 10_000,
                                 "010.0.0.0/8"])
def test_malformed_cidr_is_a_clear_error(bad):
    with pytest.raises(ValidationError) as caught:
        parse_network(bad)
    assert caught.value.code == "cidr_invalid"
    assert "not a valid IPv4 or IPv6 network" in caught.value.messages[0]
    assert len(caught.value.messages[0]) < 200


@pytest.mark.parametrize(("bad", "suggested"), [
    ("10.0.0.1/24", "10.0.0.0/24"),
    ("2001:db8::1/32", "2001:db8::/32"),
    ("192.168.1.1/16", "192.168.0.0/16"),
])
def test_host_bits_are_an_error_that_suggests_the_network(bad, suggested):
    with pytest.raises(ValidationError) as caught:
        parse_network(bad)
    assert caught.value.code == "cidr_host_bits"
    assert suggested in caught.value.messages[0] and "host bits" in caught.value.messages[0]


def test_entries_are_normalised():
    cleaned = network_entries_clean([("2001:DB8:0:0::/32", " HQ "), (" 192.0.2.1 ", "")])
    assert [(e.cidr, e.label) for e in cleaned] == [("2001:db8::/32", "HQ"), ("192.0.2.1/32", "")]


def test_duplicates_are_flagged_in_any_spelling():
    with pytest.raises(ValidationError) as caught:
        network_entries_clean([("10.0.0.0/8", "a"), ("2001:db8::/32", ""), ("10.0.0.0/8", "b"),
                               ("2001:DB8::/32", "")])
    codes = [e.code for e in caught.value.error_list]
    assert codes == ["cidr_duplicate", "cidr_duplicate"]


def test_every_bad_entry_is_reported_at_once():
    with pytest.raises(ValidationError) as caught:
        network_entries_clean([("10.0.0.0/33", ""), ("10.0.0.1/24", ""), ("10.0.0.0/8", "x" * 101)])
    assert [e.code for e in caught.value.error_list] == ["cidr_invalid", "cidr_host_bits", "label_too_long"]


def test_empty_enforced_list_is_refused_but_monitor_and_off_are_fine():
    with pytest.raises(ValidationError) as caught:
        network_entries_clean([], mode=Mode.ENFORCE)
    assert caught.value.code == "empty_enforce"
    assert network_entries_clean([], mode=Mode.MONITOR) == []
    assert network_entries_clean([], mode=Mode.OFF) == []


# --- Services -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_get_returns_the_defaults_and_writes_nothing(two_tenants):
    policy = network_policy_get(tenant=two_tenants.a.tenant)
    assert (policy.mode, policy.scope) == (Mode.OFF, NetworkScope.EVERYONE)
    assert policy.pk is None and not NetworkPolicy.objects.exists()
    # The first save creates the row; from then on the selector returns it.
    saved = network_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner, entries=[],
                                  mode=Mode.MONITOR, scope=NetworkScope.EVERYONE,
                                  confirm_self_lockout=False, actor_ip="10.0.0.1")
    assert network_policy_get(tenant=two_tenants.a.tenant).pk == saved.pk
    assert NetworkPolicy.objects.count() == 1


@pytest.mark.django_db
def test_update_replaces_entries_and_builds_rules(two_tenants):
    tenant, owner = two_tenants.a.tenant, two_tenants.a.owner
    network_policy_update(tenant=tenant, actor=owner, entries=[("10.0.0.0/8", "VPN"), ("192.0.2.0/24", "HQ")],
                          mode=Mode.ENFORCE, scope=NetworkScope.EVERYONE, confirm_self_lockout=False,
                          actor_ip="10.1.1.1")
    policy = network_policy_update(tenant=tenant, actor=owner, entries=[("10.0.0.0/8", "VPN 2"),
                                   ("2001:db8::/32", "")], mode=Mode.ENFORCE,
                                   scope=NetworkScope.ADMIN_ROLES, confirm_self_lockout=False,
                                   actor_ip="10.1.1.1")
    assert policy.updated_by == owner
    rows = NetworkAllowEntry.objects.filter(tenant=tenant).order_by("cidr")
    assert [(r.cidr, r.label) for r in rows] == [("10.0.0.0/8", "VPN 2"), ("2001:db8::/32", "")]
    built = network_rules_for(tenant=tenant)
    assert built.mode == Mode.ENFORCE and built.scope == NetworkScope.ADMIN_ROLES
    assert ip_allowed("2001:db8::5", built) and not ip_allowed("192.0.2.1", built)
    # The other tenant is untouched and unrestricted.
    assert network_rules_for(tenant=two_tenants.b.tenant).mode == Mode.OFF
    assert not NetworkAllowEntry.objects.filter(tenant=two_tenants.b.tenant).exists()


@pytest.mark.django_db
def test_self_lockout_needs_confirmation_and_nothing_changes_without_it(two_tenants):
    tenant, admin = two_tenants.a.tenant, two_tenants.a.admin
    with pytest.raises(ValidationError) as caught:
        network_policy_update(tenant=tenant, actor=admin, entries=[("10.0.0.0/8", "")], mode=Mode.ENFORCE,
                              scope=NetworkScope.EVERYONE, confirm_self_lockout=False, actor_ip="198.51.100.4")
    assert caught.value.code == "self_lockout" and "198.51.100.4" in caught.value.messages[0]
    assert not NetworkAllowEntry.objects.exists()
    assert network_rules_for(tenant=tenant).mode == Mode.OFF
    # Monitor mode, or a scope that does not cover the actor, is no lockout.
    network_policy_update(tenant=tenant, actor=admin, entries=[("10.0.0.0/8", "")], mode=Mode.MONITOR,
                          scope=NetworkScope.EVERYONE, confirm_self_lockout=False, actor_ip="198.51.100.4")
    network_policy_update(tenant=tenant, actor=two_tenants.a.owner, entries=[("10.0.0.0/8", "")],
                          mode=Mode.ENFORCE, scope=NetworkScope.EVERYONE, confirm_self_lockout=True,
                          actor_ip="198.51.100.4")
    assert network_rules_for(tenant=tenant).mode == Mode.ENFORCE


@pytest.mark.django_db
def test_invalid_update_changes_nothing(two_tenants):
    tenant, owner = two_tenants.a.tenant, two_tenants.a.owner
    network_policy_update(tenant=tenant, actor=owner, entries=[("10.0.0.0/8", "VPN")], mode=Mode.MONITOR,
                          scope=NetworkScope.EVERYONE, confirm_self_lockout=False, actor_ip="10.0.0.1")
    for kwargs in ({"entries": [("10.0.0.1/8", "")]}, {"mode": "panic"}, {"scope": "nobody"},
                   {"entries": [], "mode": Mode.ENFORCE}):
        args = {"entries": [("192.0.2.0/24", "")], "mode": Mode.ENFORCE, "scope": NetworkScope.EVERYONE,
                **kwargs}
        with pytest.raises(ValidationError):
            network_policy_update(tenant=tenant, actor=owner, confirm_self_lockout=True, actor_ip="1.1.1.1",
                                  **args)
    policy = NetworkPolicy.objects.get(tenant=tenant)
    assert policy.mode == Mode.MONITOR
    assert list(NetworkAllowEntry.objects.values_list("cidr", flat=True)) == ["10.0.0.0/8"]


@pytest.mark.django_db
def test_actor_of_another_tenant_is_refused(two_tenants):
    with pytest.raises(ValidationError) as caught:
        network_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.b.owner, entries=[],
                              mode=Mode.OFF, scope=NetworkScope.EVERYONE, confirm_self_lockout=False,
                              actor_ip="10.0.0.1")
    assert caught.value.code == "wrong_tenant"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["auditor", "helpdesk", "member"])
def test_only_policy_managers_may_change_it(two_tenants, role):
    """The service checks POLICY_MANAGE itself, whatever the caller (defect 5)."""
    a = two_tenants.a
    with pytest.raises(ValidationError) as caught:
        network_policy_update(tenant=a.tenant, actor=a.by_role(role), entries=[("10.0.0.0/8", "")],
                              mode=Mode.MONITOR, scope=NetworkScope.EVERYONE, confirm_self_lockout=True,
                              actor_ip="10.0.0.1")
    assert caught.value.code == "capability"
    assert network_rules_for(tenant=a.tenant).mode == Mode.OFF
    assert not NetworkAllowEntry.objects.exists()
