"""Against a real SMTP server (aiosmtpd on a loopback port) that refuses, accepts or hangs."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.test import TestCase, override_settings
from django.utils import timezone

from accounts.mfa.services import mfa_devices_reset
from accounts.models import User
from notifications.delivery import deliver_due, message_id
from notifications.models import DeliveryAttempt, OutboxMessage, Status
from tests.accounts.test_mfa_support import enroll
from tests.notifications.support import SmtpHandler, smtp_server

pytestmark = pytest.mark.django_db


def _later(hours: float):
    return timezone.now() + timedelta(hours=hours)


def test_an_invitation_made_while_the_server_refused_arrives_once_after_it_accepts(
        two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    with smtp_server(SmtpHandler(refusing=True)) as server:
        # Embedded mode tries right after the commit: the server says 451, the row stays due.
        response = client.post("/people/invite/", {"email": "new.person@acme.example",
                                                   "role": "member", "display_name": "New"})
        assert response.status_code == 302
        assert server.refused == 1 and server.received == []
        message = OutboxMessage.objects.for_tenant(two_tenants.a.tenant).get(kind="invitation")
        assert message.status == Status.PENDING and "451" in message.last_error
        assert deliver_due(now=timezone.now()).claimed == 0  # backing off, not hammering

        server.refusing = False
        assert deliver_due(now=_later(2)).sent == 1
        assert deliver_due(now=_later(4)).claimed == 0
    assert len(server.received) == 1
    received = server.received[0]
    assert received["To"] == "new.person@acme.example"
    assert received["Message-ID"] == message_id(message)
    assert "/invitation/" in received.get_payload(decode=True).decode()
    attempts = list(DeliveryAttempt.objects.for_tenant(two_tenants.a.tenant)
                    .filter(message=message).order_by("at").values_list("ok", flat=True))
    assert attempts == [False, True]
    # The invitation itself stood the whole time.
    assert User.objects.get(email="new.person@acme.example").status == User.Status.INVITED


@override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False)
def test_each_notification_arrives_exactly_once(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)
    with smtp_server(SmtpHandler(refusing=True)) as server:
        for n in range(3):
            assert client.post("/people/invite/", {"email": f"p{n}@acme.example",
                                                   "role": "member"}).status_code == 302
        with TestCase.captureOnCommitCallbacks(execute=True):
            enroll(a.member)  # "an authenticator app was added"
            mfa_devices_reset(person=a.member)  # "two-step sign-in was reset"
        assert server.connections == 0  # the requests and services sent nothing themselves
        assert deliver_due().retried == 5
        server.refusing = False
        for hours in (1, 2, 3, 5, 8):
            deliver_due(now=_later(hours))
    recipients = sorted(str(m["To"]) for m in server.received)
    assert recipients == sorted(["p0@acme.example", "p1@acme.example", "p2@acme.example",
                                 a.member.email, a.member.email])
    ids = [m["Message-ID"] for m in server.received]
    assert len(set(ids)) == 5
    messages = OutboxMessage.objects.for_tenant(a.tenant)
    assert set(messages.values_list("status", flat=True)) == {Status.SENT}
    assert DeliveryAttempt.objects.for_tenant(a.tenant).filter(ok=True).count() == 5
    assert DeliveryAttempt.objects.for_tenant(a.tenant).filter(ok=False).count() == 5
    assert not OutboxMessage.objects.for_tenant(two_tenants.b.tenant).exists()


@override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False)
def test_a_hanging_server_never_holds_the_request(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    hang = threading.Event()
    with smtp_server(SmtpHandler(hang=hang), timeout=1) as server:
        response = client.post("/people/invite/", {"email": "new.person@acme.example",
                                                   "role": "member"})
        assert response.status_code == 302
        assert server.connections == 0  # the request did not even connect
        message = OutboxMessage.objects.for_tenant(two_tenants.a.tenant).get(kind="invitation")
        assert message.status == Status.PENDING
        # The worker meets the hang, gives up after the mailer's timeout and retries later.
        report = deliver_due()
        assert (report.claimed, report.retried) == (1, 1)
        message.refresh_from_db()
        assert message.status == Status.PENDING and message.attempts == 1
        assert "timed out" in message.last_error.lower()
