from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


class OpsAdminSite(admin.AdminSite):
    """Django's admin for platform operators only: superusers, never tenant roles."""

    site_header = "mailadmin operations"
    site_title = "mailadmin ops"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)
