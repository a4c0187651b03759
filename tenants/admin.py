from __future__ import annotations

from django.contrib import admin

from tenants.models import Invitation, MailDomain, Tenant


class MailDomainInline(admin.TabularInline):
    model = MailDomain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "timezone", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug", "maildomain__domain"]
    inlines = [MailDomainInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_select_related = ["user", "tenant"]
    exclude = ["token_hash"]
    readonly_fields = ["tenant", "user", "invited_by", "expires_at", "accepted_at", "revoked_at"]
