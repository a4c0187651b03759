"""The record. The admin audit trail is django-auditlog's entry with a tenant key."""

from __future__ import annotations

from typing import Any

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Tenant, TenantQuerySet


def tenant_id_of(instance: Any) -> int | None:
    if isinstance(instance, Tenant):
        return instance.pk
    return getattr(instance, "tenant_id", None)


class AuditLogEntryManager(LogEntryManager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    def log_create(self, instance: Any, force_log: bool = False, **kwargs: Any) -> Any:
        kwargs.setdefault("tenant_id", tenant_id_of(instance))
        return super().log_create(instance, force_log=force_log, **kwargs)

    def log_m2m_changes(self, changed_queryset: Any, instance: Any, operation: Any,
                        field_name: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("tenant_id", tenant_id_of(instance))
        return super().log_m2m_changes(changed_queryset, instance, operation, field_name, **kwargs)


class AuditLogEntry(AbstractLogEntry):
    """One change in the admin audit trail. ``tenant`` is null only for platform-level objects."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("tenant"),
    )

    objects = AuditLogEntryManager()

    class Meta(AbstractLogEntry.Meta):
        abstract = False
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["tenant", "-timestamp", "-id"], name="audit_tenant_time")]
