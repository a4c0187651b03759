"""Per-process cache of each tenant's policy rules, keyed by the tenant's policy version.

Design: the sign-in pipeline and the per-request session checks need a tenant's rules on every
call, and re-reading five policy tables (and re-parsing 50 CIDRs) each time is most of their
cost. ``Tenant.policy_version`` is bumped in the same transaction as any save or delete of a
policy model or a mail domain (receivers below), and the tenant row is loaded with the person
anyway, so a cached rule set is used exactly while its version still matches: a change applies
on the next request, with no extra query and nothing on Redis.

Writes that bypass model signals (``QuerySet.update()``) must call ``policy_version_bump``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import F, Model
from django.db.models.signals import post_delete, post_save

from tenants.models import MailDomain, Tenant

_cache: dict[tuple[str, int], tuple[int, Any]] = {}


def tenant_rules[T](kind: str, tenant: Tenant, load: Callable[[], T]) -> T:
    """``load()``'s result for this tenant, reused while the tenant's policy version is unchanged."""
    hit = _cache.get((kind, tenant.pk))
    if hit is not None and hit[0] == tenant.policy_version:
        return hit[1]
    value = load()
    _cache[(kind, tenant.pk)] = (tenant.policy_version, value)
    return value


def rules_cache_clear() -> None:
    _cache.clear()


def policy_version_bump(*, tenant_id: int) -> None:
    """Mark every cached rule set of this tenant stale (in the caller's transaction)."""
    Tenant.objects.filter(pk=tenant_id).update(policy_version=F("policy_version") + 1)


def _bump(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id is not None:
        policy_version_bump(tenant_id=tenant_id)


def connect_policy_models(models: list[type[Model]]) -> None:
    """Called from SecurityConfig.ready(): every policy model's change bumps its tenant."""
    senders: list[type[Model]] = [*models, MailDomain]
    for model in senders:
        uid = f"policy-version-{model._meta.label_lower}"
        post_save.connect(_bump, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(_bump, sender=model, dispatch_uid=uid + "-delete")
