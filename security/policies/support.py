"""What the policy packages' services and selectors share.

Selectors never write: a tenant without a row gets an unsaved instance with the model's defaults.
Services create the row on the first save, under a row lock, and keep that creation out of the
audit trail (nobody changed anything yet); the change itself is the audit entry. Every service
checks its actor first: same tenant and ``POLICY_MANAGE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from auditlog.context import disable_auditlog
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import User
from security.policies.models import TenantPolicy
from tenants.models import Tenant
from tenants.roles import Cap


def policy_actor_check(*, tenant: Tenant, actor: User) -> None:
    """Only the tenant's own policy managers may change its policies."""
    if actor.tenant_id != tenant.pk:
        raise ValidationError(_("You can only change your own company's policies."), code="wrong_tenant")
    if not actor.can(Cap.POLICY_MANAGE):
        raise ValidationError(_("You are not allowed to change policies."), code="capability")


def policy_or_defaults[P: TenantPolicy](model: type[P], *, tenant: Tenant) -> P:
    """The tenant's saved row, or an unsaved one with the defaults (one query, no write)."""
    return policy_saved(model, tenant=tenant) or model(tenant=tenant)


def policy_saved[P: TenantPolicy](model: type[P], *, tenant: Tenant) -> P | None:
    """The tenant's saved row, or None: the tenant has the defaults (one query, no write)."""
    return cast(P | None, model._default_manager.filter(tenant=tenant).first())


def policy_for_update[P: TenantPolicy](model: type[P], *, tenant: Tenant) -> P:
    """The tenant's row, locked until the caller's transaction ends; created with the defaults
    on the first save (not an audit entry: the change that follows is)."""
    with disable_auditlog():
        policy, _created = model._default_manager.select_for_update().get_or_create(tenant=tenant)
    return cast(P, policy)


def policy_save_if_changed(policy: TenantPolicy, *, actor: User, values: dict[str, Any]) -> bool:
    """Apply ``values``; saves (one audit entry) only when one of them differs."""
    changed = [name for name, value in values.items() if getattr(policy, name) != value]
    if not changed:
        return False  # an unchanged form submitted again is not an audit entry
    for name in changed:
        setattr(policy, name, values[name])
    policy.updated_by = actor
    policy.save()
    return True


def int_in(value: Any, low: int, high: int, label: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= high:
        raise ValidationError(
            _("%(field)s must be a whole number from %(low)d to %(high)d."), code="out_of_range",
            params={"field": label, "low": low, "high": high})
    return number


def choice(value: Any, choices: Iterable[str], label: str) -> str:
    if value not in choices:
        raise ValidationError(_("Choose a valid %(field)s."), code="invalid_choice", params={"field": label})
    return str(value)
