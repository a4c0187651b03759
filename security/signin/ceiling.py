"""The per-account ceiling: failures of one account across every IP, from the record.

Design: axes' buckets are per (address, IP), so nobody can lock a person out from elsewhere, but
a botnet rotating addresses is not slowed by them (20 IPs x 5 tries = 100 passwords). The ceiling
counts the account's wrong passwords and wrong codes of the tenant's window (default 30 in 12 h)
in the record itself: the LoginEvent rows with reason ``bad_credentials`` or ``mfa_failed``.
Refused attempts (``account_throttled``, ``locked_out``) do not count, so the number of
passwords checked for unrecognised browsers in any window is at most the ceiling, and the
ceiling lifts by itself as the window slides past the failures. An unlock lifts it at once: the
record is never edited, so a ``CeilingLift`` mark says from when failures count again.

Cost: one query on an index led by the tenant (``(tenant, user, -occurred_at)``), bounded twice:
the time bounds are constants, so only the window's day partitions are planned and scanned, and
``LIMIT ceiling`` stops the count at the ceiling however many rows a botnet wrote; the lift mark
is a subquery on its unique key. No Redis, no write. Skipped altogether for a browser holding a
valid device cookie of the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from activity.models import LoginEvent, Outcome, Reason
from security.policies.lockout.rules import LockoutRules
from security.signin.models import CeilingLift
from tenants.models import Tenant

COUNTED_REASONS = (Reason.BAD_CREDENTIALS, Reason.MFA_FAILED)


def _counted(tenant: Tenant, rules: LockoutRules, now: datetime) -> QuerySet[LoginEvent]:
    since = now - rules.ceiling_window
    # Both bounds are constants in the SQL: only the window's day partitions are planned (the
    # upper bound keeps the days created ahead and DEFAULT out of the plan).
    lifted = CeilingLift.objects.filter(tenant=tenant, user=OuterRef("user_id")).values("lifted_at")[:1]
    return (LoginEvent.objects.for_tenant(tenant)
            .filter(occurred_at__gte=since, occurred_at__lte=now, outcome=Outcome.FAILURE,
                    reason__in=COUNTED_REASONS)
            .filter(occurred_at__gt=Greatest(Coalesce(Subquery(lifted), Value(since)), Value(since)))
            .order_by())


def account_failures_count(*, user: User, rules: LockoutRules, now: datetime | None = None) -> int:
    """The account's counted failures within the ceiling's window, up to the ceiling."""
    if user.tenant is None:
        return 0
    return _counted(user.tenant, rules, now or timezone.now()).filter(user=user)[:rules.ceiling].count()


def account_ceiling_reached(*, user: User, rules: LockoutRules, now: datetime | None = None) -> bool:
    return account_failures_count(user=user, rules=rules, now=now) >= rules.ceiling


@dataclass(frozen=True)
class ThrottledAccount:
    user_id: int
    failures: int
    last_failure_at: datetime


def throttled_accounts(*, tenant: Tenant, rules: LockoutRules, user: User | None = None,
                       now: datetime | None = None) -> list[ThrottledAccount]:
    """People of this tenant (or just ``user``) at their ceiling now: one grouped query."""
    rows = _counted(tenant, rules, now or timezone.now()).filter(user__isnull=False)
    if user is not None:
        rows = rows.filter(user=user)
    grouped = (rows.values("user_id").annotate(failures=Count("id"), last=Max("occurred_at"))
               .filter(Q(failures__gte=rules.ceiling)).order_by("-last"))
    return [ThrottledAccount(user_id=g["user_id"], failures=g["failures"], last_failure_at=g["last"])
            for g in grouped]


def account_ceiling_lift(*, user: User, now: datetime | None = None) -> None:
    """Failures until now no longer count toward this person's ceiling (an unlock). Who may do
    it and its audit entry are the caller's (``security.signin.lockout.lockout_reset``)."""
    if user.tenant_id is None:
        return
    CeilingLift.objects.update_or_create(tenant_id=user.tenant_id, user=user,
                                         defaults={"lifted_at": now or timezone.now()})
