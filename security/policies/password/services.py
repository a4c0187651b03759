"""Writes of the password policy and of people's password state.

Every service is keyword-only and validates everything before writing; a policy update names its
actor and raises ``ValidationError`` with a translated message and a code, and on error nothing
changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from activity.models import Reason
from security.policies.base import Decision
from security.policies.password.models import PasswordHistory, PasswordPolicy, PasswordState
from security.policies.password.rules import (
    EXPIRY_MAX_DAYS,
    HISTORY_MAX,
    MAX_LENGTH_CEILING,
    MAX_LENGTH_FLOOR,
    MIN_LENGTH_CEILING,
    MIN_LENGTH_FLOOR,
    PROFILE_SETTINGS,
    NonCompliance,
    PasswordProfile,
    PasswordRules,
    compliance,
)
from security.policies.password.selectors import password_state_get
from security.policies.support import (
    choice,
    int_in,
    policy_actor_check,
    policy_for_update,
    policy_save_if_changed,
)
from tenants.models import Tenant


@transaction.atomic
def password_policy_update(
    *, tenant: Tenant, actor: User, profile: str, on_noncompliant: str,
    min_length: Any = None, max_length: Any = None, require_upper: bool = False,
    require_lower: bool = False, require_digit: bool = False, require_symbol: bool = False,
    history_count: Any = 0, expiry_days: Any = 0,
) -> PasswordPolicy:
    """Choose a profile (its knobs win) or set custom knobs; validated before anything is saved."""
    policy_actor_check(tenant=tenant, actor=actor)
    profile = choice(profile, PasswordProfile.values, _("profile"))
    on_noncompliant = choice(on_noncompliant, NonCompliance.values, _("non-compliance action"))
    if profile == PasswordProfile.CUSTOM:
        values: dict[str, Any] = {
            "min_length": int_in(min_length, MIN_LENGTH_FLOOR, MIN_LENGTH_CEILING, _("Minimum length")),
            "max_length": int_in(max_length, MAX_LENGTH_FLOOR, MAX_LENGTH_CEILING, _("Maximum length")),
            "require_upper": bool(require_upper), "require_lower": bool(require_lower),
            "require_digit": bool(require_digit), "require_symbol": bool(require_symbol),
            "history_count": int_in(history_count, 0, HISTORY_MAX, _("Password history")),
            "expiry_days": int_in(expiry_days, 0, EXPIRY_MAX_DAYS, _("Expiry")),
        }
        if values["min_length"] > values["max_length"]:
            raise ValidationError(_("The minimum length cannot be greater than the maximum length."),
                                  code="min_over_max")
    else:
        values = dict(PROFILE_SETTINGS[profile])
    values.update(profile=profile, on_noncompliant=on_noncompliant)
    policy = policy_for_update(PasswordPolicy, tenant=tenant)
    policy_save_if_changed(policy, actor=actor, values=values)
    return policy


@transaction.atomic
def password_record_change(*, user: User, new_hash: str, now: datetime | None = None) -> PasswordState | None:
    """Call after a person's password changed: restarts expiry, remembers the hash for history."""
    if user.tenant_id is None:
        return None  # operators are outside tenant policies
    now = now or timezone.now()
    keep = PasswordPolicy.objects.filter(tenant_id=user.tenant_id).values_list(
        "history_count", flat=True).first() or 0
    if keep:
        PasswordHistory.objects.create(tenant_id=user.tenant_id, user=user, password_hash=new_hash)
        # Keep only what the policy needs: every stored hash is one more thing to crack.
        stale = (PasswordHistory.objects.filter(tenant_id=user.tenant_id, user=user)
                 .order_by("-created_at", "-id").values_list("pk", flat=True)[keep:])
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()
    else:
        PasswordHistory.objects.filter(tenant_id=user.tenant_id, user=user).delete()
    state, _created = PasswordState.objects.update_or_create(
        user=user, defaults={"tenant_id": user.tenant_id, "changed_at": now, "compliant": True,
                             "compliance_checked_at": now})
    return state


_READ = object()


def password_signin_compliance(*, user: User, password: str, rules: PasswordRules,
                               now: datetime, state: Any = _READ) -> Decision:
    """Sign-in's compliance step: check the typed password against ``rules`` and remember the
    verdict for the admin page, with at most one read and a write only when the verdict changed.
    Pass ``state`` when the caller already read it (sign-in selects it with the person)."""
    if user.tenant_id is None:
        return Decision.allow()  # operators are outside tenant policies
    if state is _READ:
        state = password_state_get(user=user)
    decision = compliance(password, user, rules, changed_at=state.changed_at if state else None, now=now)
    compliant = decision.reason != Reason.PASSWORD_CHANGE_REQUIRED
    if state is None:
        # A person seen for the first time starts their expiry clock now: we cannot know when
        # their password was really set, and expiring everyone at once when a tenant turns
        # expiry on is worse.
        PasswordState.objects.get_or_create(
            user=user, defaults={"tenant_id": user.tenant_id, "changed_at": now,
                                 "compliant": compliant, "compliance_checked_at": now})
    elif state.compliant != compliant:
        PasswordState.objects.filter(pk=state.pk).update(compliant=compliant, compliance_checked_at=now)
    return decision
