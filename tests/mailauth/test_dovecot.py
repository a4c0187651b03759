"""Mail clients against a real Dovecot: our SQL passdb, our policy endpoint, the record.

Each sign-in goes imaplib/poplib → Dovecot → ``/mailauth/policy?command=allow`` (live server)
→ the passdb (``mailadmin_mail_passdb`` on the harness's PostgreSQL) → ``command=report``.
"""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from accounts.mailclients.models import MailClientPassword
from accounts.mailclients.services import mail_client_password_create, mail_client_password_revoke
from accounts.models import User
from activity.models import LoginEvent
from security.policies.lockout.models import LockoutPolicy
from security.policies.mfa.models import MfaPolicy
from security.policies.network.models import NetworkAllowEntry, NetworkPolicy
from tests.factories import PASSWORD
from tests.mailauth.clients import imap_login, pop3_login

pytestmark = pytest.mark.django_db(transaction=True)

WRONG = "abcd-efgh-jkmn-pqrs-tuvw-xyz2"


def _events(user: User, *, expected: int) -> list[LoginEvent]:
    """The person's events, waiting for Dovecot's report (it is sent after the client's reply)."""
    deadline = time.monotonic() + 5
    while True:
        assert user.tenant is not None
        rows = list(LoginEvent.objects.for_tenant(user.tenant).filter(user=user).order_by("id"))
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_a_client_password_signs_in_over_imap_and_pop3_and_each_attempt_is_one_event(
        two_tenants, dovecot, signed_in):
    member = two_tenants.a.member
    row, plaintext = mail_client_password_create(user=member, name="Thunderbird")
    assert imap_login(dovecot.imap_port, member.email, plaintext,
                      client_id='("name" "Thunderbird" "version" "115.3")')
    assert pop3_login(dovecot.pop3_port, member.email, plaintext)
    assert not imap_login(dovecot.imap_port, member.email, WRONG)
    events = _events(member, expected=3)
    got = [(e.protocol, e.outcome, e.reason, e.ip) for e in events]
    assert got == [("imap", "success", "", "127.0.0.1"), ("pop3", "success", "", "127.0.0.1"),
                   ("imap", "failure", "bad_credentials", "127.0.0.1")], dovecot.log()[-2000:]
    assert (events[0].browser_family, events[0].browser_version) == ("Thunderbird", "115.3")
    row.refresh_from_db()
    assert row.last_used_at is not None and row.last_used_ip == "127.0.0.1"
    # The person's own history shows them (the web sign-in adds one more row).
    page = signed_in(member).get("/me/signins/").content.decode()
    assert "Thunderbird" in page
    assert LoginEvent.objects.for_tenant(two_tenants.b.tenant).count() == 0


def test_the_account_password_is_refused_over_imap_under_an_mfa_policy(two_tenants, dovecot):
    member = two_tenants.a.member
    MfaPolicy.objects.create(tenant=member.tenant, requirement="required_all")
    _row, plaintext = mail_client_password_create(user=member, name="Phone")
    assert not imap_login(dovecot.imap_port, member.email, PASSWORD)
    assert imap_login(dovecot.imap_port, member.email, plaintext)
    assert [(e.outcome, e.reason) for e in _events(member, expected=2)] == [
        ("failure", "bad_credentials"), ("success", "")]


def _allowlist(tenant, mode: str) -> None:
    policy = NetworkPolicy.objects.create(tenant=tenant, mode=mode)
    NetworkAllowEntry.objects.create(tenant=tenant, policy=policy, cidr="127.0.0.1/32", label="office")


def test_an_address_outside_the_allowlist_is_refused_in_enforce_mode(two_tenants, dovecot):
    member = two_tenants.a.member
    _allowlist(member.tenant, "enforce")
    _row, plaintext = mail_client_password_create(user=member, name="Phone")
    assert not imap_login(dovecot.imap_port, member.email, plaintext, source="127.0.0.2")
    assert imap_login(dovecot.imap_port, member.email, plaintext, source="127.0.0.1")
    assert [(e.outcome, e.reason, e.ip) for e in _events(member, expected=2)] == [
        ("denied", "network_denied", "127.0.0.2"), ("success", "", "127.0.0.1")]


def test_an_address_outside_the_allowlist_is_recorded_in_monitor_mode(two_tenants, dovecot):
    member = two_tenants.a.member
    _allowlist(member.tenant, "monitor")
    _row, plaintext = mail_client_password_create(user=member, name="Phone")
    assert pop3_login(dovecot.pop3_port, member.email, plaintext, source="127.0.0.3")
    assert [(e.protocol, e.outcome, e.reason) for e in _events(member, expected=1)] == [
        ("pop3", "success", "network_monitor")]


def test_a_suspended_person_is_refused(two_tenants, dovecot):
    member = two_tenants.a.member
    _row, plaintext = mail_client_password_create(user=member, name="Phone")
    User.objects.filter(pk=member.pk).update(status=User.Status.SUSPENDED)
    assert not imap_login(dovecot.imap_port, member.email, plaintext)
    assert [(e.outcome, e.reason) for e in _events(member, expected=1)] == [
        ("failure", "account_suspended")]


def test_a_revoked_password_stops_working_at_once(two_tenants, dovecot):
    member = two_tenants.a.member
    row, plaintext = mail_client_password_create(user=member, name="Lost phone")
    assert imap_login(dovecot.imap_port, member.email, plaintext)
    mail_client_password_revoke(user=member, password_id=row.pk)
    assert not imap_login(dovecot.imap_port, member.email, plaintext)
    assert [(e.outcome, e.reason) for e in _events(member, expected=2)] == [
        ("success", ""), ("failure", "bad_credentials")]
    assert MailClientPassword.objects.get(pk=row.pk).revoked_at <= timezone.now()


def test_imap_failures_and_the_web_sign_in_share_the_lockout(two_tenants, dovecot, client):
    member = two_tenants.a.member
    _row, plaintext = mail_client_password_create(user=member, name="Phone")
    for _ in range(5):  # the default limit per address and IP
        assert not imap_login(dovecot.imap_port, member.email, WRONG)
    _events(member, expected=5)
    # The right client password is refused now, and so is the web sign-in from the same IP.
    assert not imap_login(dovecot.imap_port, member.email, plaintext)
    response = client.post("/signin/", {"email": member.email, "password": PASSWORD})
    assert response.status_code != 302
    reasons = [(e.protocol, e.reason) for e in _events(member, expected=7)]
    assert reasons[:5] == [("imap", "bad_credentials")] * 5
    assert reasons[5:] == [("imap", "locked_out"), ("web", "locked_out")]
    # Another loopback address is its own bucket: the owner's other device still works.
    assert imap_login(dovecot.imap_port, member.email, plaintext, source="127.0.0.9")
    assert _events(member, expected=8)[-1].reason == ""


def test_twenty_wrong_passwords_from_several_addresses_hit_the_ceiling_shared_with_the_web(
        two_tenants, dovecot, client):
    member = two_tenants.a.member
    LockoutPolicy.objects.create(tenant=member.tenant, account_ceiling=20, ceiling_hours=12)
    _row, plaintext = mail_client_password_create(user=member, name="Phone")
    for i in range(20):  # 4 per address: under the per-address limit of 5 everywhere
        assert not imap_login(dovecot.imap_port, member.email, WRONG, source=f"127.0.0.{11 + i // 4}")
    _events(member, expected=20)
    # The right client password from a fresh address is refused, and so is the web sign-in of a
    # browser the account has never used (no device cookie).
    assert not imap_login(dovecot.imap_port, member.email, plaintext, source="127.0.0.30")
    response = client.post("/signin/", {"email": member.email, "password": PASSWORD})
    assert response.status_code != 302
    reasons = [(e.protocol, e.reason) for e in _events(member, expected=22)]
    assert reasons[:20] == [("imap", "bad_credentials")] * 20
    assert reasons[20:] == [("imap", "account_throttled"), ("web", "account_throttled")]
