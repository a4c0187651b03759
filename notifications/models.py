"""The outbox every e-mail goes through, and the tenant's webhooks with their own outbox rows.

Design: a row is written in the transaction of what caused it (an invitation, an alert), so the
notification exists exactly when its cause does; ``(tenant, idempotency_key)`` is unique, so a
cause replayed (a retried task, a second beat run) adds nothing. ``notifications.delivery``
claims due rows, sends them and records every attempt. ``next_attempt_at`` is the one due
column: pending rows are due at it, and claiming a row moves it to the end of the claim's lease,
so a row whose worker died becomes due again by itself. The partial indexes hold only rows not
yet delivered, so they stay small however long the delivered rows are kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedTextField
from tenants.models import TenantOwned


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Failed")


UNDELIVERED = (Status.PENDING, Status.SENDING)
_DUE = Q(status__in=UNDELIVERED)


class OutboxMessage(TenantOwned):
    """One e-mail to one recipient."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices,
                               default=Channel.EMAIL)
    kind = models.CharField(_("kind"), max_length=64)
    to = models.EmailField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255)
    # Encrypted: bodies carry one-time links (invitations, "Was this you?") whose tokens are
    # otherwise only stored hashed.
    body = EncryptedTextField(_("body"))
    html = EncryptedTextField(_("HTML body"), null=True, blank=True)  # null: text only
    language = models.CharField(_("language"), max_length=16, blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+", verbose_name=_("person"),
                             db_index=False)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    sent_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("outbox message")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "idempotency_key"], name="outbox_tenant_key"),
        ]
        indexes = [
            models.Index(fields=["tenant", "next_attempt_at"], condition=_DUE, name="outbox_due"),
            models.Index(fields=["tenant", "created_at"], name="outbox_tenant_created"),
            models.Index(fields=["tenant", "sent_at"], name="outbox_tenant_sent"),
            # The e-mail log: newest first, all or by status.
            models.Index(fields=["tenant", "-id"], name="outbox_tenant_log"),
            models.Index(fields=["tenant", "status", "-id"], name="outbox_tenant_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to}"


class WebhookEndpoint(TenantOwned):
    """A URL of the tenant that receives signed JSON events."""

    url = models.URLField(_("URL"), max_length=2000)
    secret = EncryptedTextField(_("signing secret"))
    # The audit trail never holds the secret; a rotation shows as a change of this time.
    secret_rotated_at = models.DateTimeField(_("secret set at"), default=timezone.now)
    description = models.CharField(_("description"), max_length=200, blank=True, default="")
    event_types = models.JSONField(_("event types"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"),
                                   db_index=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "active"], name="webhook_tenant_active")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(TenantOwned):
    """One event for one endpoint: the webhook's outbox row."""

    # No database constraint or single-column index (see DeliveryAttempt): deleting an endpoint
    # deletes its deliveries first, by (tenant, endpoint) (``webhook_endpoint_delete``).
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.DO_NOTHING,
                                 related_name="deliveries", verbose_name=_("endpoint"),
                                 db_index=False, db_constraint=False)
    event_type = models.CharField(_("event type"), max_length=64)
    payload = models.JSONField(_("payload"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last response code"), null=True,
                                                        blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    sent_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "endpoint", "idempotency_key"],
                                    name="webhook_delivery_key"),
        ]
        indexes = [
            models.Index(fields=["tenant", "next_attempt_at"], condition=_DUE, name="webhook_due"),
            models.Index(fields=["tenant", "endpoint", "-id"],
                         name="webhook_delivery_log"),
            models.Index(fields=["tenant", "created_at"], name="webhook_tenant_created"),
            models.Index(fields=["tenant", "sent_at"], name="webhook_tenant_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id}"


class DeliveryAttempt(TenantOwned):
    """One try at delivering a message or a webhook delivery, successful or not."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.DO_NOTHING, null=True, blank=True,
                                related_name="delivery_attempts", db_index=False,
                                db_constraint=False)
    webhook_delivery = models.ForeignKey(WebhookDelivery, on_delete=models.DO_NOTHING, null=True,
                                         blank=True, related_name="delivery_attempts",
                                         db_index=False, db_constraint=False)
    at = models.DateTimeField(_("at"), default=timezone.now)
    ok = models.BooleanField(_("delivered"))
    error = models.TextField(_("error"), blank=True, default="")
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)

    # Every index here starts with the tenant, so the two keys have no single-column index, and
    # no database constraint either: PostgreSQL would check each deleted message or delivery
    # against this table without an index to do it with. Whoever deletes those rows deletes
    # their attempts first, naming the tenant (``webhook_endpoint_delete``, the retention purge).

    class Meta:
        verbose_name = _("delivery attempt")
        constraints = [
            models.CheckConstraint(
                condition=Q(message__isnull=False, webhook_delivery__isnull=True)
                | Q(message__isnull=True, webhook_delivery__isnull=False),
                name="attempt_of_one_row"),
        ]
        indexes = [
            models.Index(fields=["tenant", "message", "at"], name="attempt_message"),
            models.Index(fields=["tenant", "webhook_delivery", "at"], name="attempt_webhook"),
            models.Index(fields=["tenant", "at"], name="attempt_tenant_at"),
        ]

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'failed'} at {self.at:%Y-%m-%d %H:%M:%S}"
