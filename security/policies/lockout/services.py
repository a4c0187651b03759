"""Writes of the lockout policy."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from security.policies.lockout.models import LockoutPolicy
from security.policies.lockout.rules import (
    CEILING_HOURS_MAX,
    CEILING_HOURS_MIN,
    CEILING_MAX,
    CEILING_MIN,
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
def lockout_policy_update(*, tenant: Tenant, actor: User, failure_limit: Any, cooloff_minutes: Any,
                          account_ceiling: Any = None, ceiling_hours: Any = None) -> LockoutPolicy:
    """Set the failure limit and cool-off, and the per-account ceiling (``None`` keeps the saved
    one); there is no permanent lockout to choose. Nothing is saved unless every value is valid."""
    policy_actor_check(tenant=tenant, actor=actor)
    policy = policy_for_update(LockoutPolicy, tenant=tenant)
    values = {
        "failure_limit": int_in(failure_limit, FAILURE_LIMIT_MIN, FAILURE_LIMIT_MAX,
                                _("Failed attempts before lockout")),
        "cooloff_minutes": int_in(cooloff_minutes, COOLOFF_MIN, COOLOFF_MAX, _("Lockout duration")),
        "account_ceiling": int_in(policy.account_ceiling if account_ceiling is None else account_ceiling,
                                  CEILING_MIN, CEILING_MAX, _("Failed attempts per account")),
        "ceiling_hours": int_in(policy.ceiling_hours if ceiling_hours is None else ceiling_hours,
                                CEILING_HOURS_MIN, CEILING_HOURS_MAX, _("Ceiling window")),
    }
    if values["account_ceiling"] < values["failure_limit"]:
        raise ValidationError(
            _("Failed attempts per account (%(ceiling)d) cannot be lower than the failed attempts "
              "before lockout from one address (%(limit)d)."), code="ceiling_below_limit",
            params={"ceiling": values["account_ceiling"], "limit": values["failure_limit"]})
    policy_save_if_changed(policy, actor=actor, values=values)
    return policy
