"""Writes of the lockout policy."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from security.policies.lockout.models import LockoutPolicy
from security.policies.lockout.rules import (
    COOLOFF_MAX,
    COOLOFF_MIN,
    FAILURE_LIMIT_MAX,
    FAILURE_LIMIT_MIN,
)
from security.policies.support import (
    int_in,
    policy_actor_check,
    policy_for_update,
    policy_save_if_changed,
)
from tenants.models import Tenant


@transaction.atomic
def lockout_policy_update(*, tenant: Tenant, actor: User, failure_limit: Any,
                          cooloff_minutes: Any) -> LockoutPolicy:
    """Set the failure limit and cool-off; there is no permanent lockout to choose."""
    policy_actor_check(tenant=tenant, actor=actor)
    values = {
        "failure_limit": int_in(failure_limit, FAILURE_LIMIT_MIN, FAILURE_LIMIT_MAX,
                                _("Failed attempts before lockout")),
        "cooloff_minutes": int_in(cooloff_minutes, COOLOFF_MIN, COOLOFF_MAX, _("Lockout duration")),
    }
    policy = policy_for_update(LockoutPolicy, tenant=tenant)
    policy_save_if_changed(policy, actor=actor, values=values)
    return policy
