"""Reading the e-mail log, webhook endpoints and their delivery log (every query names the tenant)."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Subquery

from notifications.models import DeliveryAttempt, OutboxMessage, WebhookDelivery, WebhookEndpoint
from tenants.access import get_for_tenant_or_404
from tenants.models import Tenant

DELIVERY_PAGE = 50


def webhook_endpoint_list(*, tenant: Tenant) -> list[WebhookEndpoint]:
    """The tenant's endpoints, each with its latest delivery's status and time (one query)."""
    latest = (WebhookDelivery.objects.for_tenant(tenant).filter(endpoint=OuterRef("pk"))
              .order_by("-created_at", "-id"))
    return list(WebhookEndpoint.objects.for_tenant(tenant)
                .annotate(last_status=Subquery(latest.values("status")[:1]),
                          last_at=Subquery(latest.values("created_at")[:1]))
                .order_by("created_at", "id"))


def webhook_endpoint_get(*, tenant: Tenant, pk: int) -> WebhookEndpoint:
    """One endpoint of the tenant; another tenant's id is a 404 like a missing one."""
    return get_for_tenant_or_404(WebhookEndpoint.objects.all(), tenant=tenant, pk=pk)


def webhook_delivery_list(*, tenant: Tenant, endpoint: WebhookEndpoint, before: int | None = None,
                          limit: int = DELIVERY_PAGE) -> list[WebhookDelivery]:
    """The endpoint's deliveries, newest first, with their attempts; keyset by id (``before``)."""
    deliveries = WebhookDelivery.objects.for_tenant(tenant).filter(endpoint=endpoint)
    if before is not None:
        deliveries = deliveries.filter(pk__lt=before)
    attempts = DeliveryAttempt.objects.for_tenant(tenant).order_by("at", "id")
    return list(deliveries.order_by("-id")
                .prefetch_related(Prefetch("delivery_attempts", queryset=attempts))[:limit])


EMAIL_PAGE = 50


def outbox_message_list(*, tenant: Tenant, status: str = "", to: str = "",
                        before: int | None = None,
                        limit: int = EMAIL_PAGE) -> list[OutboxMessage]:
    """The tenant's e-mails, newest first, without their bodies; keyset by id (``before``)."""
    messages = OutboxMessage.objects.for_tenant(tenant).defer("body", "html")
    if status:
        messages = messages.filter(status=status)
    if to:
        messages = messages.filter(to__icontains=to)
    if before is not None:
        messages = messages.filter(pk__lt=before)
    return list(messages.order_by("-id")[:limit])
