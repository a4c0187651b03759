"""Writing to the outbox, and managing a tenant's webhook endpoints.

``email_enqueue`` and ``webhook_event_enqueue`` are called inside the caller's transaction, so a
notification exists exactly when what caused it does, and deliver nothing themselves: the worker
(``notifications.delivery.deliver_due``, from beat) does. Embedded (``NOTIFICATIONS_DELIVER_ON_COMMIT``,
on when Celery runs eagerly: there is no beat), the rows are delivered in process once the
transaction commits. An idempotency key already used by the tenant returns the existing row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User
from notifications.delivery import deliver_rows
from notifications.events import EVENT_TYPES, TEST_EVENT
from notifications.models import (
    DeliveryAttempt,
    OutboxMessage,
    Status,
    WebhookDelivery,
    WebhookEndpoint,
)
from notifications.ssrf import webhook_target
from notifications.webhooks import secret_generate
from tenants.bulk import rows_insert
from tenants.models import Tenant
from tenants.roles import Cap, role_has

logger = logging.getLogger(__name__)

MAX_ENDPOINTS = 20


def _deliver_on_commit(*, messages: Iterable[int] = (), webhooks: Iterable[int] = ()) -> None:
    if not settings.NOTIFICATIONS_DELIVER_ON_COMMIT:
        return
    message_ids, webhook_ids = list(messages), list(webhooks)

    def deliver() -> None:
        try:
            deliver_rows(messages=message_ids, webhooks=webhook_ids)
        except Exception:  # the rows stay due; the cause has committed and must stand
            logger.exception("in-process delivery failed; the rows stay in the outbox")

    transaction.on_commit(deliver)


def email_enqueue(*, tenant: Tenant, to: str, subject: str, body: str, idempotency_key: str,
                  kind: str, html: str = "", user: User | None = None) -> OutboxMessage:
    """Put one e-mail in the outbox, in the caller's transaction; a used key returns its row."""
    values: dict[str, Any] = {
        "to": to, "subject": " ".join(subject.split())[:255], "body": body, "html": html or None,
        "kind": kind[:64], "user": user, "language": (get_language() or "")[:16],
    }
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(tenant=tenant, idempotency_key=idempotency_key,
                                                   **values)
    except IntegrityError:
        return OutboxMessage.objects.for_tenant(tenant).get(idempotency_key=idempotency_key)
    _deliver_on_commit(messages=[message.pk])
    return message


def _envelope(*, tenant: Tenant, event_type: str, payload: dict[str, Any],
              idempotency_key: str) -> dict[str, Any]:
    return {"type": event_type, "event_id": idempotency_key, "tenant": tenant.slug,
            "created_at": timezone.now().isoformat(), "data": payload}


def webhook_event_enqueue(*, tenant: Tenant, event_type: str, payload: dict[str, Any],
                          idempotency_key: str) -> int:
    """One delivery per active endpoint subscribed to ``event_type``; returns how many were added."""
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.for_tenant(tenant).filter(active=True)
                 if event_type in endpoint.event_types]
    return _deliveries_add(tenant=tenant, endpoints=endpoints, event_type=event_type,
                           payload=payload, idempotency_key=idempotency_key)


def _deliveries_add(*, tenant: Tenant, endpoints: list[WebhookEndpoint], event_type: str,
                    payload: dict[str, Any], idempotency_key: str) -> int:
    envelope = _envelope(tenant=tenant, event_type=event_type, payload=payload,
                         idempotency_key=idempotency_key)
    added: list[int] = []
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    tenant=tenant, endpoint=endpoint, event_type=event_type, payload=envelope,
                    idempotency_key=idempotency_key)
        except IntegrityError:
            continue  # this event is already on its way to this endpoint
        added.append(delivery.pk)
    if added:
        _deliver_on_commit(webhooks=added)
    return len(added)


# --- Many at once (the alert detector's batches) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailDraft:
    """One e-mail for ``emails_enqueue_many``; ``language`` is the one it was written in."""

    to: str
    subject: str
    body: str
    idempotency_key: str
    kind: str
    language: str = ""
    user_id: int | None = None
    html: str = ""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event for ``webhook_events_enqueue_many``."""

    event_type: str
    payload: dict[str, Any]
    idempotency_key: str


def emails_enqueue_many(*, tenant: Tenant, drafts: Sequence[EmailDraft]) -> None:
    """``email_enqueue`` for many e-mails in one ``INSERT … ON CONFLICT DO NOTHING``: the same
    rows, keys and delivery, in the caller's transaction; a key already used adds nothing."""
    if not drafts:
        return
    stamp = timezone.now()
    rows = [OutboxMessage(
        tenant=tenant, idempotency_key=d.idempotency_key, to=d.to,
        subject=" ".join(d.subject.split())[:255], body=d.body, html=d.html or None,
        kind=d.kind[:64], user_id=d.user_id, language=d.language[:16], created_at=stamp,
        next_attempt_at=stamp) for d in drafts]
    OutboxMessage.objects.for_tenant(tenant).bulk_create(rows, ignore_conflicts=True)
    if settings.NOTIFICATIONS_DELIVER_ON_COMMIT:
        # The rows this call added (a used key kept its older row and its older created_at).
        _deliver_on_commit(messages=OutboxMessage.objects.for_tenant(tenant).filter(
            idempotency_key__in=[d.idempotency_key for d in drafts], created_at=stamp,
        ).values_list("pk", flat=True))


def webhook_events_enqueue_many(*, tenant: Tenant, events: Sequence[WebhookEvent]) -> None:
    """``webhook_event_enqueue`` for many events: the endpoints read once, one delivery per
    subscribed active endpoint and event, all in one ``INSERT … ON CONFLICT DO NOTHING``."""
    if not events:
        return
    endpoints = list(WebhookEndpoint.objects.for_tenant(tenant).filter(active=True))
    stamp = timezone.now()
    # Plain rows in one statement (``tenants.bulk``): a detector batch adds thousands.
    rows = [
        (tenant.pk, endpoint.pk, event.event_type,
         _envelope(tenant=tenant, event_type=event.event_type, payload=event.payload,
                   idempotency_key=event.idempotency_key),
         event.idempotency_key, Status.PENDING, 0, stamp, "", stamp)
        for event in events for endpoint in endpoints if event.event_type in endpoint.event_types
    ]
    if not rows:
        return
    rows_insert(WebhookDelivery, _DELIVERY_FIELDS, rows, tenant=tenant, ignore_conflicts=True)
    if settings.NOTIFICATIONS_DELIVER_ON_COMMIT:
        _deliver_on_commit(webhooks=WebhookDelivery.objects.for_tenant(tenant).filter(
            idempotency_key__in=sorted({row[4] for row in rows}), created_at=stamp,
        ).values_list("pk", flat=True))


_DELIVERY_FIELDS = ("tenant_id", "endpoint_id", "event_type", "payload", "idempotency_key", "status",
                    "attempts", "next_attempt_at", "last_error", "created_at")


# --- Endpoints ----------------------------------------------------------------------------------


def _check_actor(tenant: Tenant, actor: User) -> None:
    if actor.tenant_id != tenant.pk or not role_has(actor.role, Cap.WEBHOOKS_MANAGE):
        raise PermissionDenied(_("You are not allowed to manage webhooks."))


def _check_endpoint(tenant: Tenant, endpoint: WebhookEndpoint) -> None:
    if endpoint.tenant_id != tenant.pk:
        raise WebhookEndpoint.DoesNotExist


def _clean(*, url: str, description: str, event_types: list[str]) -> tuple[str, str, list[str]]:
    url = (url or "").strip()
    webhook_target(url)  # raises a translated ValidationError: scheme, private address, console
    known = dict(EVENT_TYPES)
    chosen = sorted(set(event_types or []))
    if not chosen:
        raise ValidationError(_("Choose at least one event."), code="no_events")
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise ValidationError(_("Unknown event: %(event)s."), code="unknown_event",
                              params={"event": unknown[0]})
    return url, (description or "").strip()[:200], chosen


def webhook_endpoint_create(*, tenant: Tenant, actor: User, url: str, description: str,
                            event_types: list[str], secret: str = "") -> tuple[WebhookEndpoint, str]:
    """A new endpoint; returns it with its signing secret, which is shown this once."""
    _check_actor(tenant, actor)
    url, description, event_types = _clean(url=url, description=description,
                                           event_types=event_types)
    secret = (secret or "").strip()
    if secret and len(secret) < 24:
        raise ValidationError(_("A signing secret must have at least 24 characters."),
                              code="short_secret")
    secret = secret or secret_generate()
    with transaction.atomic():
        # Locks the tenant row so that two concurrent creates cannot pass the limit together.
        Tenant.objects.select_for_update().filter(pk=tenant.pk).exists()
        if WebhookEndpoint.objects.for_tenant(tenant).count() >= MAX_ENDPOINTS:
            raise ValidationError(_("A company can have at most %(count)d webhooks."),
                                  code="too_many", params={"count": MAX_ENDPOINTS})
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant, url=url, description=description, event_types=event_types,
            secret=secret, created_by=actor)
    return endpoint, secret


def webhook_endpoint_update(*, tenant: Tenant, actor: User, endpoint: WebhookEndpoint, url: str,
                            description: str, event_types: list[str], active: bool) -> WebhookEndpoint:
    """Change an endpoint's URL, description, events or whether it is active."""
    _check_actor(tenant, actor)
    _check_endpoint(tenant, endpoint)
    url, description, event_types = _clean(url=url, description=description,
                                           event_types=event_types)
    endpoint.url, endpoint.description = url, description
    endpoint.event_types, endpoint.active = event_types, active
    endpoint.save(update_fields=["url", "description", "event_types", "active"])
    return endpoint


def webhook_endpoint_secret_rotate(*, tenant: Tenant, actor: User,
                                   endpoint: WebhookEndpoint) -> str:
    """A new signing secret for the endpoint (shown once); the old one stops signing at once."""
    _check_actor(tenant, actor)
    _check_endpoint(tenant, endpoint)
    secret = secret_generate()
    endpoint.secret, endpoint.secret_rotated_at = secret, timezone.now()
    endpoint.save(update_fields=["secret", "secret_rotated_at"])
    return secret


def webhook_endpoint_disable(*, tenant: Tenant, actor: User,
                             endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending to an endpoint; its undelivered events fail instead of waiting for it."""
    _check_actor(tenant, actor)
    _check_endpoint(tenant, endpoint)
    if endpoint.active:
        endpoint.active = False
        endpoint.save(update_fields=["active"])
    return endpoint


def webhook_endpoint_delete(*, tenant: Tenant, actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its delivery log."""
    _check_actor(tenant, actor)
    _check_endpoint(tenant, endpoint)
    with transaction.atomic():
        # Children first, each by an index led by the tenant (the keys have no constraint).
        deliveries = WebhookDelivery.objects.for_tenant(tenant).filter(endpoint=endpoint)
        DeliveryAttempt.objects.for_tenant(tenant).filter(
            webhook_delivery__in=deliveries.values("pk")).delete()
        deliveries.delete()
        endpoint.delete()


def webhook_test_send(*, tenant: Tenant, actor: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for one endpoint; the worker delivers it like any other."""
    _check_actor(tenant, actor)
    _check_endpoint(tenant, endpoint)
    if not endpoint.active:
        raise ValidationError(_("This webhook is disabled; enable it to send a test event."),
                              code="disabled")
    now = timezone.now()
    key = f"test:{endpoint.pk}:{now.timestamp():.6f}"
    with transaction.atomic():
        _deliveries_add(tenant=tenant, endpoints=[endpoint], event_type=TEST_EVENT,
                        payload={"message": "This is a test event from mailadmin.",
                                 "sent_by": actor.email},
                        idempotency_key=key)
    return WebhookDelivery.objects.for_tenant(tenant).get(endpoint=endpoint, idempotency_key=key)


# --- Operators ----------------------------------------------------------------------------------


def outbox_failed_requeue(*, tenant: Tenant, since: datetime, kind: str = "") -> int:
    """Give failed e-mails and webhook deliveries created since ``since`` a fresh set of attempts
    (after a mail or network outage longer than the retries); returns how many were requeued."""
    now = timezone.now()
    fields = {"status": Status.PENDING, "attempts": 0, "next_attempt_at": now,
              "claimed_until": None}
    messages = OutboxMessage.objects.for_tenant(tenant).filter(status=Status.FAILED,
                                                                 created_at__gte=since)
    if kind:
        messages = messages.filter(kind=kind)
    count = messages.update(**fields)
    if not kind:
        count += WebhookDelivery.objects.for_tenant(tenant).filter(
            status=Status.FAILED, created_at__gte=since, endpoint__active=True).update(**fields)
    return count
