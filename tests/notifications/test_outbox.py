from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from notifications.delivery import deliver_due, message_id, retry_delay
from notifications.models import DeliveryAttempt, OutboxMessage, Status, WebhookDelivery
from notifications.services import email_enqueue, webhook_event_enqueue
from tests.factories import TenantFactory, UserFactory
from tests.notifications.support import FlakyBackend

pytestmark = pytest.mark.django_db

# Delivered by the worker in these tests, as in production (embedded mode delivers on commit).
worker_mode = override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False)


def _enqueue(tenant, key="k1", to="someone@acme.example", **extra):
    return email_enqueue(tenant=tenant, to=to, subject="Hello", body="Body text",
                         idempotency_key=key, kind="test", **extra)


@worker_mode
def test_a_key_already_used_returns_the_existing_row_and_adds_nothing(two_tenants):
    a, b = two_tenants.a.tenant, two_tenants.b.tenant
    first = _enqueue(a, user=two_tenants.a.member)
    again = email_enqueue(tenant=a, to="other@acme.example", subject="Changed", body="x",
                          idempotency_key="k1", kind="test")
    assert again.pk == first.pk and again.subject == "Hello"
    # Keys are per tenant: Globex's "k1" is its own message.
    other = _enqueue(b)
    assert other.pk != first.pk
    assert OutboxMessage.objects.for_tenant(a).count() == 1
    assert OutboxMessage.objects.for_tenant(b).count() == 1


@worker_mode
def test_a_rolled_back_cause_leaves_no_message(two_tenants):
    tenant = two_tenants.a.tenant
    with pytest.raises(RuntimeError), transaction.atomic():
        _enqueue(tenant)
        raise RuntimeError("the cause failed")
    assert not OutboxMessage.objects.for_tenant(tenant).exists()


@worker_mode
def test_the_worker_delivers_each_message_once_with_a_stable_message_id(two_tenants):
    tenant = two_tenants.a.tenant
    message = _enqueue(tenant, html="<p>Body</p>")
    assert mail.outbox == []  # enqueueing sends nothing
    report = deliver_due()
    assert (report.claimed, report.sent) == (1, 1)
    assert deliver_due().claimed == 0
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["someone@acme.example"] and sent.subject == "Hello"
    assert sent.extra_headers["Message-ID"] == message_id(message)
    assert sent.alternatives[0][1] == "text/html"
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 1 and message.sent_at
    attempt = DeliveryAttempt.objects.for_tenant(tenant).get(message=message)
    assert attempt.ok and attempt.error == ""


@worker_mode
def test_the_body_is_stored_encrypted(two_tenants):
    message = _enqueue(two_tenants.a.tenant, key="secret-link")
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM notifications_outboxmessage WHERE id = %s", [message.pk])
        stored = cursor.fetchone()[0]
    assert "Body text" not in stored


def test_embedded_mode_delivers_after_commit(two_tenants, django_capture_on_commit_callbacks):
    with (override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=True),
          django_capture_on_commit_callbacks(execute=True)):
        message = _enqueue(two_tenants.a.tenant)
        assert mail.outbox == []  # not before the commit
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == Status.SENT


FLAKY = {"default": {"BACKEND": "tests.notifications.support.FlakyBackend"}}


@worker_mode
@override_settings(MAILERS=FLAKY, NOTIFICATIONS_MAX_ATTEMPTS=3)
def test_failures_back_off_then_give_up_after_the_last_attempt(two_tenants):
    FlakyBackend.failures, FlakyBackend.sent = 10, []
    tenant = two_tenants.a.tenant
    message = _enqueue(tenant)
    now = timezone.now()
    assert deliver_due(now=now).retried == 1
    message.refresh_from_db()
    assert message.status == Status.PENDING and "451" in message.last_error
    # Not due again before its backoff.
    assert deliver_due(now=now + timedelta(seconds=1)).claimed == 0
    later = message.next_attempt_at
    assert deliver_due(now=later).retried == 1
    message.refresh_from_db()
    assert message.next_attempt_at - later >= timedelta(seconds=30)  # doubled base, half fixed
    assert deliver_due(now=message.next_attempt_at).failed == 1
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.attempts == 3
    assert deliver_due(now=message.next_attempt_at + timedelta(days=1)).claimed == 0
    assert DeliveryAttempt.objects.for_tenant(tenant).filter(message=message, ok=False).count() == 3
    assert FlakyBackend.sent == []


@worker_mode
@override_settings(MAILERS=FLAKY)
def test_a_refusal_then_acceptance_delivers_once(two_tenants):
    FlakyBackend.failures, FlakyBackend.sent = 1, []
    message = _enqueue(two_tenants.a.tenant)
    deliver_due()
    deliver_due(now=timezone.now() + timedelta(hours=2))
    deliver_due(now=timezone.now() + timedelta(hours=4))
    assert len(FlakyBackend.sent) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 2)


@override_settings(NOTIFICATIONS_RETRY_BASE_SECONDS=30, NOTIFICATIONS_RETRY_MAX_SECONDS=3600)
def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    for attempts, ceiling in ((1, 30), (2, 60), (3, 120), (12, 3600)):
        delays = {retry_delay(attempts).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


@worker_mode
def test_a_row_claimed_by_a_killed_worker_is_due_again_after_its_lease(two_tenants):
    tenant = two_tenants.a.tenant
    message = _enqueue(tenant)
    now = timezone.now()
    # A worker claimed it and died before sending: the row is "sending" with a lease.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, attempts=1, claimed_until=now + timedelta(minutes=5),
        next_attempt_at=now + timedelta(minutes=5))
    assert deliver_due(now=now).claimed == 0  # still leased
    assert deliver_due(now=now + timedelta(minutes=6)).sent == 1
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 2)


@worker_mode
def test_webhook_events_fan_out_to_subscribed_active_endpoints(two_tenants):
    from notifications.models import WebhookEndpoint

    a, b = two_tenants.a.tenant, two_tenants.b.tenant
    subscribed = WebhookEndpoint.objects.create(tenant=a, url="https://hooks.example.net/1",
                                                secret="s" * 32, event_types=["alert.opened"])
    WebhookEndpoint.objects.create(tenant=a, url="https://hooks.example.net/2", secret="s" * 32,
                                   event_types=["alert.updated"])
    WebhookEndpoint.objects.create(tenant=a, url="https://hooks.example.net/3", secret="s" * 32,
                                   event_types=["alert.opened"], active=False)
    WebhookEndpoint.objects.create(tenant=b, url="https://hooks.example.net/4", secret="s" * 32,
                                   event_types=["alert.opened"])
    assert webhook_event_enqueue(tenant=a, event_type="alert.opened", payload={"alert": 7},
                                 idempotency_key="alert:7:opened") == 1
    assert webhook_event_enqueue(tenant=a, event_type="alert.opened", payload={"alert": 7},
                                 idempotency_key="alert:7:opened") == 0
    delivery = WebhookDelivery.objects.for_tenant(a).get()
    assert delivery.endpoint == subscribed
    assert delivery.payload["type"] == "alert.opened" and delivery.payload["data"] == {"alert": 7}
    assert not WebhookDelivery.objects.for_tenant(b).exists()


# --- Several workers at once -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@worker_mode
def test_two_workers_at_once_deliver_each_row_once():
    tenant = TenantFactory(name="Concurrent", slug="concurrent", domain="concurrent.example")
    user = UserFactory(tenant=tenant, email="p@concurrent.example")
    for n in range(60):
        _enqueue(tenant, key=f"c{n}", to=f"p{n}@concurrent.example", user=user)
    barrier = threading.Barrier(2)
    reports = []

    def worker():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            reports.append(deliver_due(limit=100))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent for r in reports) == 60
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"p{n}@concurrent.example" for n in range(60))
    assert OutboxMessage.objects.for_tenant(tenant).filter(attempts=1, status=Status.SENT).count() == 60
    assert DeliveryAttempt.objects.for_tenant(tenant).count() == 60


@worker_mode
@override_settings(NOTIFICATIONS_MAX_ATTEMPTS=3)
def test_a_message_whose_workers_keep_dying_fails_after_the_last_attempt(two_tenants):
    message = _enqueue(two_tenants.a.tenant)
    now = timezone.now()
    # Three claims, each by a worker that died before recording anything.
    OutboxMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, attempts=3,
                                                       next_attempt_at=now - timedelta(seconds=1))
    assert deliver_due(now=now).claimed == 0
    message.refresh_from_db()
    assert message.status == Status.FAILED and "worker stopped" in message.last_error
    assert mail.outbox == []


@worker_mode
def test_operators_requeue_what_failed_during_a_long_outage(two_tenants):
    from django.core.management import CommandError, call_command

    a, b = two_tenants.a.tenant, two_tenants.b.tenant
    old = _enqueue(a, key="old")
    OutboxMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=9))
    failed = [_enqueue(a, key="f1"), _enqueue(b, key="f2")]
    sent = _enqueue(a, key="sent")
    OutboxMessage.objects.filter(pk__in=[old.pk, *(m.pk for m in failed)]).update(
        status=Status.FAILED, attempts=40)
    OutboxMessage.objects.filter(pk=sent.pk).update(status=Status.SENT)
    since = (timezone.now() - timedelta(days=1)).isoformat()
    call_command("outbox_requeue", "--since", since, "--tenant", "acme")
    assert deliver_due().sent == 1  # Acme's recent failure only
    call_command("outbox_requeue", "--since", since)
    assert deliver_due().sent == 1  # then Globex's
    assert sorted(m.to[0] for m in mail.outbox) == ["someone@acme.example"] * 2
    old.refresh_from_db()
    assert old.status == Status.FAILED  # older than --since
    with pytest.raises(CommandError):
        call_command("outbox_requeue", "--since", "yesterday")
    with pytest.raises(CommandError):
        call_command("outbox_requeue", "--since", since, "--tenant", "nobody")
