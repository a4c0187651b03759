"""Writes of the MFA policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from security.policies.mfa.models import MfaPolicy
from security.policies.mfa.rules import GRACE_MAX_DAYS, MfaRequirement, is_raise
from security.policies.support import (
    choice,
    int_in,
    policy_actor_check,
    policy_for_update,
    policy_save_if_changed,
)
from tenants.models import Tenant


@transaction.atomic
def mfa_policy_update(*, tenant: Tenant, actor: User, requirement: str, grace_days: Any,
                      now: datetime | None = None) -> MfaPolicy:
    """Set the requirement; raising it starts a new grace period of ``grace_days``."""
    policy_actor_check(tenant=tenant, actor=actor)
    requirement = choice(requirement, MfaRequirement.values, _("requirement"))
    grace = int_in(grace_days, 0, GRACE_MAX_DAYS, _("Grace period"))
    policy = policy_for_update(MfaPolicy, tenant=tenant)
    values: dict[str, Any] = {"requirement": requirement, "grace_days": grace}
    if is_raise(policy.requirement, requirement):
        values["grace_started_at"] = now or timezone.now()
    elif requirement not in (MfaRequirement.REQUIRED_ADMINS, MfaRequirement.REQUIRED_ALL):
        values["grace_started_at"] = None
    policy_save_if_changed(policy, actor=actor, values=values)
    return policy
