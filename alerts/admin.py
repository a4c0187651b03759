"""Operators' view of alerts and of the detector's progress (tenants triage in the console)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from alerts.models import Alert, DetectionCursor, RuleSetting, Trust


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators look; tenants decide. Triage and settings are the console's, and audited there."""

    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["last_seen", "tenant", "rule", "severity", "status", "mode", "user", "count"]
    list_filter = ["status", "severity", "mode", "rule", "tenant"]
    list_select_related = ["tenant", "user"]
    raw_id_fields = ["user", "assignee"]


@admin.register(DetectionCursor)
class DetectionCursorAdmin(ReadOnlyAdmin):
    """How far the detector got per tenant: a stuck ``updated_at`` means a stuck worker or beat."""

    list_display = ["tenant", "kind", "last_id", "last_at", "updated_at"]
    list_select_related = ["tenant"]
    exclude = ["recent"]


@admin.register(RuleSetting)
class RuleSettingAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "rule", "enabled", "mode", "severity", "updated_at"]
    list_filter = ["rule", "enabled", "mode"]
    list_select_related = ["tenant"]


@admin.register(Trust)
class TrustAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "user", "kind", "value", "rule", "created_at", "revoked_at"]
    list_filter = ["kind"]
    list_select_related = ["tenant", "user"]
    raw_id_fields = ["user", "created_by", "revoked_by"]
