from __future__ import annotations

from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from tenants.models import Invitation, MailDomain, Tenant

        auditlog.register(Tenant, exclude_fields=["policy_version"])
        auditlog.register(MailDomain)
        auditlog.register(Invitation, exclude_fields=["token_hash"])
