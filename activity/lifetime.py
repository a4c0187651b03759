"""How long the record lives, per tenant: visible, then a grey zone, then purged.

Readers of the record ask ``visible_since`` for the default lower bound of what they show; the
retention sweep asks ``purge_before`` for what it may delete. Both read the tenant's
``RetentionPolicy`` or, without one, the deployment's defaults; neither writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from activity.models import RetentionPolicy
from tenants.models import Tenant


@dataclass(frozen=True, slots=True)
class RetentionRules:
    visible_days: int
    purge_days: int
    audit_days: int

    def visible_since(self, now: dt.datetime) -> dt.datetime:
        """Rows at or after this instant are visible by default; older ones are in the grey zone."""
        return now - dt.timedelta(days=self.visible_days)

    def purge_before(self, now: dt.datetime) -> dt.datetime:
        """Personal rows strictly older than this instant are due for deletion."""
        return now - dt.timedelta(days=self.purge_days)

    def audit_purge_before(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(days=self.audit_days)

    def deleted_on(self, occurred_at: dt.datetime) -> dt.date:
        """The (UTC) day a row that occurred at ``occurred_at`` becomes due for deletion."""
        return (occurred_at + dt.timedelta(days=self.purge_days)).astimezone(dt.UTC).date()


def default_rules() -> RetentionRules:
    return RetentionRules(visible_days=settings.RETENTION_DEFAULT_VISIBLE_DAYS,
                          purge_days=max(settings.RETENTION_DEFAULT_PURGE_DAYS,
                                         settings.RETENTION_MIN_PURGE_DAYS),
                          audit_days=max(settings.RETENTION_DEFAULT_AUDIT_DAYS,
                                         settings.RETENTION_MIN_AUDIT_DAYS))


def retention_policy_get(*, tenant: Tenant) -> RetentionPolicy:
    """The tenant's saved policy, or an unsaved one with the defaults (never a write)."""
    policy = RetentionPolicy.objects.for_tenant(tenant).first()
    if policy is not None:
        return policy
    rules = default_rules()
    return RetentionPolicy(tenant=tenant, visible_days=rules.visible_days,
                           purge_days=rules.purge_days, audit_days=rules.audit_days)


def retention_rules(*, tenant: Tenant) -> RetentionRules:
    policy = retention_policy_get(tenant=tenant)
    return RetentionRules(visible_days=policy.visible_days, purge_days=policy.purge_days,
                          audit_days=policy.audit_days)


def visible_since(*, tenant: Tenant, now: dt.datetime | None = None) -> dt.datetime:
    return retention_rules(tenant=tenant).visible_since(now or timezone.now())
