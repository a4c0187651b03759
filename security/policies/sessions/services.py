"""Writes of the session policy."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from security.policies.sessions.models import SessionPolicy
from security.policies.sessions.rules import IDLE_MAX, IDLE_MIN, LIFETIME_MAX, LIFETIME_MIN
from security.policies.support import (
    int_in,
    policy_actor_check,
    policy_for_update,
    policy_save_if_changed,
)
from tenants.models import Tenant


@transaction.atomic
def session_policy_update(*, tenant: Tenant, actor: User, idle_timeout_minutes: Any,
                          absolute_lifetime_hours: Any) -> SessionPolicy:
    """Set the idle timeout and the absolute lifetime (the idle timeout cannot exceed it)."""
    policy_actor_check(tenant=tenant, actor=actor)
    values = {
        "idle_timeout_minutes": int_in(idle_timeout_minutes, IDLE_MIN, IDLE_MAX, _("Idle timeout")),
        "absolute_lifetime_hours": int_in(absolute_lifetime_hours, LIFETIME_MIN, LIFETIME_MAX,
                                          _("Maximum session length")),
    }
    if values["idle_timeout_minutes"] > values["absolute_lifetime_hours"] * 60:
        raise ValidationError(_("The idle timeout cannot be longer than the maximum session length."),
                              code="idle_over_lifetime")
    policy = policy_for_update(SessionPolicy, tenant=tenant)
    policy_save_if_changed(policy, actor=actor, values=values)
    return policy
