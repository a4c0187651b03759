"""Delivering the outbox: claim due rows, send them, record each attempt, retry or give up.

Design:

- **Claim.** A short transaction selects due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (so
  workers running at once never pick the same row), counts the attempt, sets the row to
  ``sending`` and moves its ``next_attempt_at`` to the end of a lease
  (``NOTIFICATIONS_LEASE_SECONDS``), then commits. Nothing is sent while a lock is held.
- **Send** outside any transaction: one SMTP connection per batch (Django's default mailer), or
  one pinned HTTPS request per webhook (``webhooks.py``). Batches are small
  (``CLAIM_BATCH``), so a batch of slow sends still ends well inside its lease.
- **Record.** The outcome and a ``DeliveryAttempt`` are written together, fenced on the attempt
  number the claim wrote: a worker whose lease ran out and whose row another worker took over
  cannot overwrite the newer outcome.
- **Retry** with exponential backoff and full jitter up to ``NOTIFICATIONS_MAX_ATTEMPTS``, then
  ``failed``. A permanent refusal (an SMTP 5xx for the recipient, a webhook URL now refused by
  the SSRF check, a disabled endpoint) fails at once.
- **Crash.** A worker killed after claiming leaves rows in ``sending`` with a lease in the past
  soon: they are due again and another worker takes them. A row recorded ``sent`` is never
  claimed again. The one remaining window is at-least-once: a worker killed after the mail
  server (or webhook receiver) accepted but before the outcome committed. That message is sent
  again after the lease, with the same ``Message-ID`` (derived from the idempotency key) or the
  same ``X-Mailadmin-Delivery`` id, so a receiver can drop the duplicate.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications.models import (
    UNDELIVERED,
    DeliveryAttempt,
    OutboxMessage,
    Status,
    WebhookDelivery,
    WebhookEndpoint,
)
from notifications.webhooks import webhook_post

logger = logging.getLogger(__name__)

CLAIM_BATCH = 10
# A run stops claiming after this long, well inside the task's time limits; beat starts the next.
RUN_BUDGET_SECONDS = 60.0
_random = secrets.SystemRandom()


@dataclass
class DeliveryReport:
    """What one run did: rows claimed, delivered, rescheduled and given up."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: DeliveryReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    error: str = ""
    permanent: bool = False
    response_code: int | None = None


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the given number of attempts: exponential, capped, with full jitter."""
    base = float(settings.NOTIFICATIONS_RETRY_BASE_SECONDS)
    cap = float(settings.NOTIFICATIONS_RETRY_MAX_SECONDS)
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    # Half fixed, half random: retries spread out but never come sooner than half the backoff.
    return timedelta(seconds=ceiling / 2 + _random.uniform(0, ceiling / 2))


def _claim[R: (OutboxMessage, WebhookDelivery)](model: type[R], *, now: datetime, count: int,
                                                ids: Sequence[int] | None) -> list[R]:
    with transaction.atomic():
        due = model.objects.filter(status__in=UNDELIVERED, next_attempt_at__lte=now)
        if ids is not None:
            due = due.filter(pk__in=ids)
        rows = list(due.order_by("next_attempt_at", "pk")
                    .select_for_update(skip_locked=True, of=("self",))[:count])
        # A row whose every attempt ended with its worker gone (a message that crashes workers)
        # would be claimed forever: after the last attempt it fails like any other.
        exhausted = [row.pk for row in rows if row.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS]
        if exhausted:
            model.objects.filter(pk__in=exhausted).update(
                status=Status.FAILED, claimed_until=None,
                last_error="No outcome was recorded for the last attempt (the worker stopped).")
            rows = [row for row in rows if row.pk not in exhausted]
        lease = now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)
        if rows:
            # One plain UPDATE for the batch (the rows are locked: the +1 is the attempt count).
            model.objects.filter(pk__in=[row.pk for row in rows]).update(
                attempts=F("attempts") + 1, status=Status.SENDING, claimed_until=lease,
                next_attempt_at=lease)
        for row in rows:
            row.attempts += 1
            row.status = Status.SENDING
            row.claimed_until = row.next_attempt_at = lease
    return rows


def _record(row: OutboxMessage | WebhookDelivery, outcome: _Outcome, *, started: float,
            now: datetime, report: DeliveryReport) -> None:
    at = now
    duration_ms = max(0, int((time.monotonic() - started) * 1000))
    fields: dict[str, Any] = {"claimed_until": None, "last_error": outcome.error[:2000]}
    if outcome.ok:
        fields.update(status=Status.SENT, sent_at=at)
        report.sent += 1
    elif outcome.permanent or row.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        fields.update(status=Status.FAILED)
        report.failed += 1
    else:
        fields.update(status=Status.PENDING, next_attempt_at=at + retry_delay(row.attempts))
        report.retried += 1
    with transaction.atomic():
        attempt = DeliveryAttempt(tenant_id=row.tenant_id, at=at, ok=outcome.ok,
                                  error=outcome.error[:2000], duration_ms=duration_ms,
                                  response_code=outcome.response_code)
        if isinstance(row, OutboxMessage):
            updated = OutboxMessage.objects.filter(pk=row.pk, status=Status.SENDING,
                                                   attempts=row.attempts).update(**fields)
            attempt.message = row
        else:
            fields["last_status_code"] = outcome.response_code
            updated = WebhookDelivery.objects.filter(pk=row.pk, status=Status.SENDING,
                                                     attempts=row.attempts).update(**fields)
            attempt.webhook_delivery = row
        if not updated and not type(row).objects.filter(pk=row.pk).exists():
            return  # deleted meanwhile (its endpoint was deleted): nothing left to record on
        attempt.save()
    if not updated:
        logger.warning("%s %s was taken over by another worker after its lease ran out",
                       type(row).__name__, row.pk)


# --- E-mail --------------------------------------------------------------------------------------


def message_id(message: OutboxMessage) -> str:
    """The Message-ID: the same for every attempt at one message, so receivers can deduplicate."""
    digest = hashlib.sha256(f"{message.tenant_id}:{message.idempotency_key}".encode()).hexdigest()
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "mailadmin.invalid"
    return f"<{digest[:40]}@{domain}>"


class _Mailer:
    """One connection to the mail server for a batch, reopened after a failed message."""

    def __init__(self) -> None:
        self._connection: Any = None

    def send(self, email: EmailMultiAlternatives) -> None:
        if self._connection is None:
            self._connection = mailers.default
            self._connection.open()
        try:
            accepted = self._connection.send_messages([email])
        except BaseException:
            self.close()
            raise
        if not accepted:
            raise smtplib.SMTPException("the mail server did not accept the message")

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # a broken connection is being dropped anyway
                logger.debug("closing the mail connection failed", exc_info=True)
            self._connection = None


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(int(code) >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _email(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"Message-ID": message_id(message), "Auto-Submitted": "auto-generated"})
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


def _send_messages(rows: list[OutboxMessage], *, now: datetime | None,
                   report: DeliveryReport) -> None:
    mailer = _Mailer()
    try:
        for row in rows:
            started = time.monotonic()
            try:
                mailer.send(_email(row))
            except Exception as exc:  # any failure is this attempt's outcome
                outcome = _Outcome(ok=False, error=f"{type(exc).__name__}: {exc}",
                                   permanent=_permanent(exc))
            else:
                outcome = _Outcome(ok=True)
            _record(row, outcome, started=started, now=now or timezone.now(), report=report)
    finally:
        mailer.close()


# --- Webhooks ------------------------------------------------------------------------------------


def _send_webhooks(rows: list[WebhookDelivery], *, now: datetime | None,
                   report: DeliveryReport) -> None:
    for row in rows:
        started = time.monotonic()
        endpoint = row.endpoint
        if not endpoint.active:
            outcome = _Outcome(ok=False, error="The webhook is disabled.", permanent=True)
        else:
            response = webhook_post(url=endpoint.url, secret=endpoint.secret,
                                    event_type=row.event_type, delivery_id=str(row.pk),
                                    payload=row.payload)
            outcome = _Outcome(ok=not response.error, error=response.error,
                               permanent=response.refused, response_code=response.status)
        _record(row, outcome, started=started, now=now or timezone.now(), report=report)


def _endpoints_attach(rows: list[WebhookDelivery]) -> list[WebhookDelivery]:
    # Read after the claim, not joined into it: FOR UPDATE must lock the deliveries only.
    endpoints = WebhookEndpoint.objects.in_bulk({row.endpoint_id for row in rows})
    kept = []
    for row in rows:
        endpoint = endpoints.get(row.endpoint_id)
        if endpoint is not None:  # else deleted since the claim, and the delivery with it
            row.endpoint = endpoint
            kept.append(row)
    return kept


# --- Entry points --------------------------------------------------------------------------------


def _run(*, limit: int, now: datetime | None, messages: Sequence[int] | None,
         webhooks: Sequence[int] | None) -> DeliveryReport:
    report = DeliveryReport()
    deadline = time.monotonic() + RUN_BUDGET_SECONDS
    message_done = messages is not None and not messages
    webhook_done = webhooks is not None and not webhooks
    while (report.claimed < limit and not (message_done and webhook_done)
           and time.monotonic() < deadline):
        if not message_done:
            claim_at = now or timezone.now()
            rows = _claim(OutboxMessage, now=claim_at, count=min(CLAIM_BATCH, limit - report.claimed),
                          ids=messages)
            report.claimed += len(rows)
            message_done = not rows
            _send_messages(rows, now=now, report=report)
        if not webhook_done and report.claimed < limit:
            claim_at = now or timezone.now()
            deliveries = _claim(WebhookDelivery, now=claim_at,
                                count=min(CLAIM_BATCH, limit - report.claimed), ids=webhooks)
            report.claimed += len(deliveries)
            webhook_done = not deliveries
            _send_webhooks(_endpoints_attach(deliveries), now=now, report=report)
    return report


def deliver_due(*, limit: int = 100, now: datetime | None = None) -> DeliveryReport:
    """Deliver up to ``limit`` due e-mails and webhook deliveries; safe in several workers at once."""
    return _run(limit=limit, now=now, messages=None, webhooks=None)


def deliver_rows(*, messages: Sequence[int] = (), webhooks: Sequence[int] = ()) -> DeliveryReport:
    """Deliver these rows now if they are due (embedded mode, right after their commit)."""
    return _run(limit=len(messages) + len(webhooks), now=None, messages=list(messages),
                webhooks=list(webhooks))
