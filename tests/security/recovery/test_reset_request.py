"""'Forgot password?': one answer and one token's work for every address, one link only for an
active person, rate limits per address and per IP, newer links replace older ones."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from activity.models import AuditLogEntry
from notifications.models import OutboxMessage
from security.models import PasswordReset, PasswordResetThrottle
from security.recovery import services
from security.recovery.services import password_reset_send, password_resets_revoke_all
from tests.factories import TenantFactory, UserFactory
from tests.security.signin_support import CHROME_WINDOWS, normalise_page

pytestmark = pytest.mark.django_db

FORGOT = "/signin/forgot/"


def _ask(client, email: str, *, ip: str = "8.8.8.8"):
    return client.post(FORGOT, {"email": email}, REMOTE_ADDR=ip, HTTP_USER_AGENT=CHROME_WINDOWS)


def _link(body: str) -> str:
    return re.search(r"http://[^\s]+/signin/reset/\d+/[^\s/]+/", body).group(0)


def _reset_entries(obj) -> list[AuditLogEntry]:
    return [e for e in AuditLogEntry.objects.filter(object_pk=str(obj.pk)).order_by("timestamp", "id")
            if "password_reset" in (e.changes or {})]


@pytest.fixture
def token_calls(monkeypatch):
    """Every new token made (and hashed) by the request path."""
    calls: list[str] = []
    original = services._token_new

    def spy():
        token, digest = original()
        calls.append(digest)
        return token, digest

    monkeypatch.setattr(services, "_token_new", spy)
    return calls


def test_the_sign_in_page_links_to_forgot_password(client):
    page = client.get(reverse("signin")).content.decode()
    assert f'href="{FORGOT}"' in page


def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_work(
        two_tenants, client, make_client, token_calls):
    a = two_tenants.a
    suspended = UserFactory(tenant=a.tenant, status=User.Status.SUSPENDED)
    offboarded = UserFactory(tenant=a.tenant, status=User.Status.OFFBOARDED)
    invited = UserFactory(tenant=a.tenant, status=User.Status.INVITED)
    cases = {"known": a.member.email, "unknown on the domain": "nobody@acme.example",
             "unknown domain": "nobody@elsewhere.example", "suspended": suspended.email,
             "offboarded": offboarded.email, "invited": invited.email}
    answers, pages = {}, {}
    for name, email in cases.items():
        before = len(token_calls)
        browser = make_client()
        response = _ask(browser, email)
        answers[name] = (response.status_code, response["Location"])
        pages[name] = normalise_page(browser.get(response["Location"]).content.decode())
        assert len(token_calls) == before + 1, name  # one token made and hashed, whoever asks
    assert set(answers.values()) == {(302, reverse("password_reset_sent"))}
    assert len(set(pages.values())) == 1
    # One stored hash, the known person's; one e-mail, to them.
    rows = list(PasswordReset.objects.all())
    assert [(r.user_id, r.token_hash) for r in rows] == [(a.member.pk, token_calls[0])]
    assert [m.to for m in mail.outbox] == [[a.member.email]]


def test_the_link_arrives_in_the_persons_language_and_expires_in_an_hour(two_tenants, client):
    a = two_tenants.a
    a.member.language = "zh-hans"
    a.member.save(update_fields=["language"])
    _ask(client, a.member.email.upper())  # the address as typed, normalised
    reset = PasswordReset.objects.get()
    assert round((reset.expires_at - reset.created_at).total_seconds()) == 3600
    message = OutboxMessage.objects.for_tenant(a.tenant).get(kind="password_reset")
    assert message.language == "zh-hans" and message.user_id == a.member.pk
    assert f"/signin/reset/{reset.pk}/" in mail.outbox[0].body
    # Only the SHA-256 is stored: the token in the link is not in the row.
    token = _link(mail.outbox[0].body).rstrip("/").rsplit("/", 1)[1]
    assert reset.token_hash != token and len(reset.token_hash) == 64


@override_settings(PASSWORD_RESET_TTL_MINUTES=15)
def test_the_lifetime_is_a_setting(two_tenants, client):
    _ask(client, two_tenants.a.member.email)
    reset = PasswordReset.objects.get()
    assert round((reset.expires_at - reset.created_at).total_seconds()) == 900


def test_every_request_is_in_the_audit_trail_with_ip_and_browser(two_tenants, client):
    a = two_tenants.a
    suspended = UserFactory(tenant=a.tenant, status=User.Status.SUSPENDED)
    _ask(client, a.member.email, ip="8.8.4.4")
    _ask(client, suspended.email)
    _ask(client, "ghost@acme.example")
    sent = _reset_entries(a.member)
    assert [e.changes["password_reset"][1] for e in sent] == ["link requested and sent"]
    assert sent[0].additional_data["ip"] == "8.8.4.4"
    assert sent[0].additional_data["browser"].startswith("Chrome")
    assert sent[0].tenant_id == a.tenant.pk
    refused = _reset_entries(suspended)
    assert refused[0].changes["reason"][1] == "account_suspended"
    unknown = [e for e in _reset_entries(a.tenant) if e.changes.get("address")]
    assert unknown[0].changes["address"][1] == "ghost@acme.example"
    assert unknown[0].changes["reason"][1] == "unknown_account"
    # Nothing about it in the other tenant's trail.
    assert not AuditLogEntry.objects.filter(tenant=two_tenants.b.tenant,
                                            changes__has_key="password_reset").exists()


def test_a_suspended_tenants_people_get_nothing(client):
    tenant = TenantFactory(domain="frozen.example")
    person = UserFactory(tenant=tenant, email="p@frozen.example")
    tenant.status = "suspended"
    tenant.save()
    assert not tenant.is_active
    assert _ask(client, person.email).status_code == 302
    assert not PasswordReset.objects.exists() and mail.outbox == []


@override_settings(PASSWORD_RESET_PER_ADDRESS_PER_HOUR=2)
def test_per_address_limit_sends_nothing_more_and_answers_the_same(two_tenants, make_client):
    a = two_tenants.a
    answers = [_ask(make_client(), a.member.email, ip=f"8.8.8.{i}") for i in range(1, 5)]
    assert {(r.status_code, r["Location"]) for r in answers} == {(302, reverse("password_reset_sent"))}
    assert PasswordReset.objects.count() == 2 and len(mail.outbox) == 2
    assert [e.changes.get("reason", ["", ""])[1] for e in _reset_entries(a.member)][-2:] == [
        "rate_limited", "rate_limited"]
    # Another person is not held back by it.
    _ask(make_client(), a.admin.email)
    assert PasswordReset.objects.filter(user=a.admin).count() == 1


@override_settings(PASSWORD_RESET_PER_IP_PER_HOUR=3)
def test_per_ip_limit_is_a_429_whatever_the_address(two_tenants, client):
    a = two_tenants.a
    for email in ("x1@acme.example", "x2@acme.example", "x3@acme.example"):
        assert _ask(client, email, ip="9.9.9.9").status_code == 302
    known, unknown = _ask(client, a.member.email, ip="9.9.9.9"), _ask(client, "x4@acme.example", ip="9.9.9.9")
    assert known.status_code == unknown.status_code == 429
    assert "Too many requests from your network" in known.content.decode()
    assert not PasswordReset.objects.exists()
    # Another address of the network is fine.
    assert _ask(client, a.member.email, ip="9.9.9.10").status_code == 302
    assert PasswordReset.objects.count() == 1
    # No address in clear in the throttle table.
    assert not PasswordResetThrottle.objects.filter(key__contains="acme").exists()


def test_a_newer_link_replaces_the_older_one(two_tenants, client):
    a = two_tenants.a
    _ask(client, a.member.email)
    _ask(client, a.member.email)
    first, second = PasswordReset.objects.order_by("created_at", "id")
    assert first.revoked_at is not None and second.revoked_at is None
    old_link = _link(mail.outbox[0].body)
    response = client.get(old_link)
    assert response.status_code == 400 and "no longer valid" in response.content.decode()
    assert client.get(_link(mail.outbox[1].body)).status_code == 200


def test_a_bad_address_is_a_form_error(client):
    response = client.post(FORGOT, {"email": "not an address"})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert not PasswordResetThrottle.objects.exists()


def test_helpdesk_sends_the_same_link_and_it_is_audited(two_tenants, django_capture_on_commit_callbacks):
    a = two_tenants.a
    with django_capture_on_commit_callbacks(execute=True):
        issued = password_reset_send(tenant=a.tenant, actor=a.helpdesk, person=a.member)
    assert issued.reset.requested_by == a.helpdesk
    assert issued.url in mail.outbox[0].body and mail.outbox[0].to == [a.member.email]
    entry = _reset_entries(a.member)[-1]
    assert entry.actor == a.helpdesk and entry.changes["password_reset"][1] == "link sent by an administrator"


@pytest.mark.parametrize("case", ["other tenant", "member actor", "auditor actor", "suspended",
                                  "helpdesk on owner"])
def test_helpdesk_send_refusals_change_nothing(two_tenants, case):
    a, b = two_tenants.a, two_tenants.b
    tenant, actor, person = a.tenant, a.helpdesk, a.member
    if case == "other tenant":
        person = b.member
    elif case == "member actor":
        actor = a.member
        person = a.admin
    elif case == "auditor actor":
        actor = a.auditor
    elif case == "suspended":
        person.status = User.Status.SUSPENDED
        person.save()
    else:
        person = a.owner
    with pytest.raises(ValidationError):
        password_reset_send(tenant=tenant, actor=actor, person=person)
    assert not PasswordReset.objects.exists() and mail.outbox == []


def test_revoke_all_kills_every_open_link(two_tenants, client):
    a = two_tenants.a
    _ask(client, a.member.email)
    link = _link(mail.outbox[0].body)
    assert password_resets_revoke_all(user=a.member) == 1
    assert password_resets_revoke_all(user=a.member) == 0
    assert client.get(link).status_code == 400
