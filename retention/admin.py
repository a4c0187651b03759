"""Operators' read-only view of the sweeps (tenants see their own receipts on the retention page)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from retention.models import LegalHold, SweepReceipt, SweepRun


class ReadOnlyAdmin(admin.ModelAdmin):
    """Receipts are evidence of what the sweep did: viewable, never added, edited or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


_RECEIPT_FIELDS = ("tenant", "days_rolled_up", "rows_purged", "partitions_dropped", "rows_held",
                   "errors", "oldest_day", "newest_day", "purge_before", "duration")


class SweepReceiptInline(admin.TabularInline):
    model = SweepReceipt
    extra = 0
    can_delete = False
    fields = readonly_fields = _RECEIPT_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "status", "dry_run", "scope"]
    list_filter = ["status", "dry_run"]
    inlines = [SweepReceiptInline]


@admin.register(SweepReceipt)
class SweepReceiptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "run", "days_rolled_up", "partitions_dropped",
                    "rows_held", "duration"]
    list_filter = ["tenant"]
    list_select_related = ["tenant", "run"]


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "person", "ends_on", "placed_at", "lifted_at"]
    list_filter = ["tenant"]
    list_select_related = ["tenant", "person"]
