"""Operators' view of the outbox at /ops/: what is stuck and why. Read-only; bodies and secrets
stay out (bodies carry one-time links)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import OutboxMessage, WebhookDelivery, WebhookEndpoint


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_ReadOnly):
    list_display = ["kind", "to", "tenant", "status", "attempts", "next_attempt_at", "sent_at",
                    "created_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["tenant"]
    search_fields = ["to", "idempotency_key"]
    exclude = ["body", "html"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_ReadOnly):
    list_display = ["url", "tenant", "active", "created_at"]
    list_filter = ["active"]
    list_select_related = ["tenant"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly):
    list_display = ["event_type", "endpoint", "tenant", "status", "attempts", "last_status_code",
                    "next_attempt_at", "created_at"]
    list_filter = ["status", "event_type"]
    list_select_related = ["tenant", "endpoint"]
