"""Reads of the password policy and of people's password state; none of them writes."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from accounts.models import User
from security.policies.password.models import PasswordPolicy, PasswordState
from security.policies.password.rules import (
    PasswordRules,
    context_words,
    domain_context_words,
    password_expires_at,
)
from security.policies.support import policy_or_defaults
from tenants.models import MailDomain, Tenant

EXPIRING_WINDOW_DAYS = 14


def password_policy_get(*, tenant: Tenant) -> PasswordPolicy:
    """The tenant's password policy, or the defaults (Recommended) when none is saved yet."""
    return policy_or_defaults(PasswordPolicy, tenant=tenant)


def tenant_context_words(*, tenant: Tenant) -> tuple[str, ...]:
    """The tenant's words a password may not contain: name, slug, its mail domains' labels."""
    words = set(context_words(tenant.name, tenant.slug))
    for domain in MailDomain.objects.for_tenant(tenant).values_list("domain", flat=True):
        words.update(domain_context_words(domain))
    return tuple(sorted(words))


def password_rules_for(*, tenant: Tenant | None) -> PasswordRules:
    """The tenant's password rules for the pure checks (two queries)."""
    if tenant is None:
        return PasswordRules()
    policy = policy_or_defaults(PasswordPolicy, tenant=tenant)
    return PasswordRules.from_policy(policy, context_words=tenant_context_words(tenant=tenant))


def password_state_get(*, user: User) -> PasswordState | None:
    if user.tenant_id is None:
        return None
    return PasswordState.objects.filter(tenant_id=user.tenant_id, user=user).first()


def password_noncompliant_list(*, tenant: Tenant) -> models.QuerySet[PasswordState]:
    return (PasswordState.objects.for_tenant(tenant).filter(compliant=False)
            .select_related("user").order_by("user__email"))


def password_expiring_list(*, tenant: Tenant, now: datetime | None = None,
                           within_days: int = EXPIRING_WINDOW_DAYS) -> list[tuple[PasswordState, datetime]]:
    """People whose password expired or expires within ``within_days``, soonest first."""
    policy = password_policy_get(tenant=tenant)
    if not policy.expiry_days:
        return []
    now = now or timezone.now()
    rules = PasswordRules.from_policy(policy)
    cutoff = now + timedelta(days=within_days) - timedelta(days=policy.expiry_days)
    states = (PasswordState.objects.for_tenant(tenant).filter(changed_at__lte=cutoff)
              .select_related("user").order_by("changed_at"))
    return [(state, password_expires_at(state.changed_at, rules)) for state in states]  # type: ignore[misc]


def password_expired_exists(*, tenant: Tenant, now: datetime | None = None) -> models.Exists | None:
    """For User querysets: the person's password is past the policy's expiry (the same instant
    ``password_expires_at`` gives); None when the policy lets passwords never expire (one query).

    A person without a password state has not signed in since expiry was introduced: their
    clock starts at their next sign-in, so they are not expired.
    """
    policy = password_policy_get(tenant=tenant)
    if not policy.expiry_days:
        return None
    cutoff = (now or timezone.now()) - timedelta(days=policy.expiry_days)
    return models.Exists(PasswordState.objects.for_tenant(tenant)
                         .filter(user=models.OuterRef("pk"), changed_at__lte=cutoff))
