"""The sweep and the other apps' personal rows: delivered e-mails and webhook deliveries go with
their delivery attempts; alert evidence loses its raw IP and User-Agent but the alert, its rule
and counts stay, and alerts are counted in the daily aggregates."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.models import Alert, AlertEvidence
from notifications.models import (
    DeliveryAttempt,
    OutboxMessage,
    Status,
    WebhookDelivery,
    WebhookEndpoint,
)
from retention import selectors
from retention.models import Metric, SweepReceipt
from retention.sweep import retention_sweep
from tests.conftest import TwoTenants
from tests.retention.support import NOW, days_ago

pytestmark = pytest.mark.django_db


def _message(t, *, key: str, status: str, sent: dt.datetime | None, created: dt.datetime) -> OutboxMessage:
    message = OutboxMessage.objects.create(tenant=t.tenant, kind="invitation", to=t.member.email,
                                           subject="s", body="b", user=t.member, idempotency_key=key,
                                           status=status, sent_at=sent, created_at=created)
    DeliveryAttempt.objects.create(tenant=t.tenant, message=message, at=created, ok=status == Status.SENT)
    return message


def test_settled_messages_and_deliveries_past_the_purge_day_go_with_their_attempts(two_tenants: TwoTenants):
    a = two_tenants.a
    old, young = days_ago(200), days_ago(20)
    _message(a, key="old-sent", status=Status.SENT, sent=old, created=old)
    _message(a, key="old-failed", status=Status.FAILED, sent=None, created=old)
    _message(a, key="old-pending", status=Status.PENDING, sent=None, created=old)  # still work to do
    _message(a, key="young-sent", status=Status.SENT, sent=young, created=young)
    endpoint = WebhookEndpoint.objects.create(tenant=a.tenant, url="https://hooks.example/x", secret="s")
    for key, sent in (("old", old), ("young", young)):
        delivery = WebhookDelivery.objects.create(tenant=a.tenant, endpoint=endpoint, event_type="alert",
                                                  payload={}, idempotency_key=key, status=Status.SENT,
                                                  sent_at=sent, created_at=sent)
        DeliveryAttempt.objects.create(tenant=a.tenant, webhook_delivery=delivery, at=sent, ok=True)
    run = retention_sweep(now=NOW, pause_seconds=0)
    assert set(OutboxMessage.objects.values_list("idempotency_key", flat=True)) == {"old-pending", "young-sent"}
    assert list(WebhookDelivery.objects.values_list("idempotency_key", flat=True)) == ["young"]
    assert DeliveryAttempt.objects.count() == 3
    receipt = SweepReceipt.objects.get(run=run, tenant=a.tenant)
    assert receipt.rows_purged == {"notifications_outboxmessage": 2, "notifications_webhookdelivery": 1}


def test_alert_evidence_is_blanked_not_deleted_and_alerts_are_counted(two_tenants: TwoTenants):
    a, b = two_tenants.a, two_tenants.b
    alerts = []
    for t, at in ((a, days_ago(200)), (a, days_ago(10)), (b, days_ago(200))):
        alert = Alert.objects.create(tenant=t.tenant, rule="new_country", severity="high", user=t.member,
                                     dedup_key=f"k{at.timestamp()}{t.tenant.pk}", first_seen=at,
                                     last_seen=at, count=3, created_at=at, status="resolved")
        AlertEvidence.objects.create(tenant=t.tenant, alert=alert, event_id=1, occurred_at=at,
                                     ip="198.51.100.7", country="DE", browser_family="Firefox",
                                     user_agent="Mozilla/5.0 (X11)")
        alerts.append(alert)
    day = days_ago(200).date()
    before = selectors.activity_totals(tenant=a.tenant, since=day, until=NOW.date())
    assert before.day(day, Metric.ALERTS_BY_RULE) == {"new_country": 1}
    run = retention_sweep(now=NOW, pause_seconds=0)
    old = AlertEvidence.objects.get(alert=alerts[0])
    assert (old.ip, old.user_agent, old.country, old.browser_family) == (None, "", "DE", "Firefox")
    assert AlertEvidence.objects.get(alert=alerts[1]).ip == "198.51.100.7"
    assert Alert.objects.count() == 3 and Alert.objects.get(pk=alerts[0].pk).count == 3
    assert SweepReceipt.objects.get(run=run, tenant=a.tenant).rows_purged == {"alerts_alertevidence": 1}
    after = selectors.activity_totals(tenant=a.tenant, since=day, until=NOW.date())
    assert after.total(Metric.ALERTS_BY_SEVERITY) == before.total(Metric.ALERTS_BY_SEVERITY) == {"high": 2}
