from __future__ import annotations

from django.contrib import admin

from accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "display_name", "tenant", "role", "status", "is_superuser"]
    list_filter = ["role", "status", "is_superuser"]
    list_select_related = ["tenant"]
    search_fields = ["email", "display_name"]
    exclude = ["password", "user_permissions", "groups"]
    readonly_fields = ["last_login", "date_joined"]
