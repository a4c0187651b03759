"""Operators' read-only view of the record (the tenant console has its own log pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from activity.models import ExportEvent, LoginEvent


class RecordAdmin(admin.ModelAdmin):
    """Evidence: viewable, never added, edited or deleted by hand (retention deletes)."""

    list_select_related = ["tenant", "user"]
    # These tables grow to millions of rows: no COUNT(*) over the unfiltered table per page, and
    # no date_hierarchy (a DISTINCT over every row's date).
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoginEvent)
class LoginEventAdmin(RecordAdmin):
    list_display = ["occurred_at", "tenant", "attempted_login", "outcome", "reason", "ip",
                    "country", "browser_family", "os_family", "device_type"]
    list_filter = ["outcome", "reason", "device_type", "mfa_method", "tenant"]
    search_fields = ["attempted_login", "=ip"]


@admin.register(ExportEvent)
class ExportEventAdmin(RecordAdmin):
    list_display = ["occurred_at", "tenant", "user", "dataset", "format", "status", "row_count",
                    "ip", "country"]
    list_filter = ["status", "dataset", "tenant"]
    search_fields = ["=ip", "user__email"]
