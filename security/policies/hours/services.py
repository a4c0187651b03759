"""Writes of the sign-in hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from security.policies.base import Channels, Mode, SignInContext
from security.policies.hours.models import SignInHoursPolicy
from security.policies.hours.rules import HoursRules, HoursScope, evaluate, hours_schedule_clean
from security.policies.support import choice, policy_actor_check, policy_for_update
from tenants.models import Tenant


@transaction.atomic
def hours_policy_update(
    *, tenant: Tenant, actor: User, schedule: list[dict[str, Any]], mode: str, scope: str,
    confirm_self_lockout: bool, now: datetime | None = None, channels: str = Channels.BOTH,
) -> SignInHoursPolicy:
    """Replace the tenant's schedule and settings; refuses to lock out the actor unless confirmed."""
    policy_actor_check(tenant=tenant, actor=actor)
    if mode not in Mode.values:
        raise ValidationError(_("Choose a valid mode."), code="invalid_choice")
    if scope not in HoursScope.values:
        raise ValidationError(_("Choose a valid scope."), code="invalid_choice")
    choice(channels, Channels.values, _("sign-ins covered"))
    intervals = hours_schedule_clean(schedule, mode=mode)
    rules = HoursRules.build(mode=mode, scope=scope, channels=channels, timezone_name=tenant.timezone,
                             intervals=intervals)
    ctx = SignInContext(ip="", now=now or timezone.now(), role=actor.role, user_id=actor.pk)
    if mode == Mode.ENFORCE and not evaluate(ctx, rules).allowed and not confirm_self_lockout:
        raise ValidationError(
            _("It is now outside these hours in %(tz)s: once saved, you would be signed out and could "
              "not sign in again until the next window opens. Confirm to save anyway."),
            code="self_lockout", params={"tz": tenant.timezone})

    policy = policy_for_update(SignInHoursPolicy, tenant=tenant)
    stored = [i.as_json() for i in intervals]
    if (policy.mode, policy.scope, policy.channels, policy.schedule) != (mode, scope, channels, stored):
        policy.mode, policy.scope, policy.channels, policy.schedule = mode, scope, channels, stored
        policy.updated_by = actor
        policy.save()
    return policy
