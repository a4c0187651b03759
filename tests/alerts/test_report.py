""""This wasn't me": from one's own history (signed in) and from the e-mail's signed link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from accounts.models import User
from alerts.models import Alert, AlertEvidence
from alerts.preferences import ReportLink
from alerts.report.links import report_link_issue
from security.models import UserSession
from tests.alerts.triage_support import quiet_detector, signin  # noqa: F401
from tests.mailadmin.test_cross_tenant_urls import UNKNOWN_TOKENS

pytestmark = pytest.mark.django_db


def _secured(user: User) -> bool:
    user.refresh_from_db()
    return user.must_change_password and not UserSession.objects.filter(user=user).exists()


def test_reporting_from_my_signins_asks_then_secures_the_account(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(member)
    stranger = signin(member)
    page = client.get("/me/signins/").content.decode()
    assert f'action="/alerts/report/signin/{stranger.pk}/"' in page
    # The first POST (the row's button) only asks.
    confirm = client.post(f"/alerts/report/signin/{stranger.pk}/")
    assert confirm.status_code == 200
    assert b'data-testid="report-confirm"' in confirm.content
    assert not Alert.objects.filter(rule="this_wasnt_me").exists()
    assert UserSession.objects.filter(user=member).exists()
    done = client.post(f"/alerts/report/signin/{stranger.pk}/", {"confirm": "1"})
    assert done.status_code == 200
    assert "your account is secured" in done.content.decode()
    alert = Alert.objects.for_tenant(member.tenant).get(rule="this_wasnt_me")
    assert (alert.rule, alert.severity, alert.status, alert.user_id, alert.count) == (
        "this_wasnt_me", "high", "open", member.pk, 1)
    assert list(AlertEvidence.objects.filter(alert=alert).values_list("event_id", "country")) == [
        (stranger.pk, "DE")]
    assert "203.0.113.7" in alert.evidence["ip"]
    assert _secured(member)
    # This browser is signed out too.
    assert client.get("/me/").status_code == 302


def test_reporting_a_second_signin_grows_the_same_alert(two_tenants, signed_in):
    member = two_tenants.a.member
    first, second = signin(member), signin(member)
    client = signed_in(member)
    assert client.post(f"/alerts/report/signin/{first.pk}/", {"confirm": "1"}).status_code == 200
    # The session ended and a new password is due; let them back in for the second report.
    User.objects.filter(pk=member.pk).update(must_change_password=False)
    client = signed_in(member)
    assert client.post(f"/alerts/report/signin/{second.pk}/", {"confirm": "1"}).status_code == 200
    alert = Alert.objects.for_tenant(member.tenant).get(rule="this_wasnt_me")
    assert alert.count == 2


def test_someone_elses_or_a_failed_signin_cannot_be_reported(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.member)
    theirs = signin(a.admin)
    other_tenant = signin(two_tenants.b.member)
    failed = signin(a.member, outcome="failure")
    for event in (theirs, other_tenant):
        assert client.post(f"/alerts/report/signin/{event.pk}/", {"confirm": "1"}).status_code == 404
    response = client.post(f"/alerts/report/signin/{failed.pk}/", {"confirm": "1"}, follow=True)
    assert "nothing to report" in response.content.decode()
    assert not Alert.objects.filter(rule="this_wasnt_me").exists()
    a.member.refresh_from_db()
    assert not a.member.must_change_password


def _link(user: User, event) -> str:
    return "/alerts/report/" + report_link_issue(alert=None, user=user, event_id=event.pk) + "/"


def test_the_email_link_works_without_signing_in_once(two_tenants, client):
    member = two_tenants.a.member
    event = signin(member)
    url = _link(member, event)
    # GET (a mail scanner, or the person) only shows the confirmation.
    page = client.get(url)
    assert page.status_code == 200
    assert b'data-testid="report-confirm"' in page.content
    assert not Alert.objects.filter(rule="this_wasnt_me").exists()
    assert ReportLink.objects.get().used_at is None
    done = client.post(url, {"confirm": "1"})
    assert done.status_code == 200
    assert b'data-testid="report-done"' in done.content
    alert = Alert.objects.for_tenant(member.tenant).get(rule="this_wasnt_me")
    assert alert.rule == "this_wasnt_me" and alert.evidence["via"] == "email"
    member.refresh_from_db()
    assert member.must_change_password
    # Used once: a second POST (or GET) is refused and changes nothing.
    again = client.post(url, {"confirm": "1"})
    assert again.status_code == 410
    assert "has been used already" in again.content.decode()
    assert client.get(url).status_code == 410
    assert Alert.objects.get(rule="this_wasnt_me").count == 1


def test_a_tampered_link_is_refused_and_changes_nothing(two_tenants, client):
    member = two_tenants.a.member
    url = _link(member, signin(member))
    token = url.split("/")[3]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (flipped, token + "x", *UNKNOWN_TOKENS):
        for method in ("get", "post"):
            response = getattr(client, method)(f"/alerts/report/{bad}/")
            assert response.status_code in (404, 410), (bad, method, response.status_code)
    # A validly signed token naming another link's id with this nonce: still refused.
    tenant_id, link_id, nonce = signing.loads(token, salt="alerts.report-link")
    forged = signing.dumps([tenant_id, link_id + 1, nonce], salt="alerts.report-link")
    assert client.post(f"/alerts/report/{forged}/").status_code == 404
    assert not Alert.objects.filter(rule="this_wasnt_me").exists()
    member.refresh_from_db()
    assert not member.must_change_password
    assert ReportLink.objects.get().used_at is None


def test_an_expired_link_is_refused(two_tenants, client):
    member = two_tenants.a.member
    event = signin(member)
    url = _link(member, event)
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.post(url, {"confirm": "1"})
    assert response.status_code == 410
    assert re.search("has expired", response.content.decode())
    assert not Alert.objects.filter(rule="this_wasnt_me").exists()
    member.refresh_from_db()
    assert not member.must_change_password
