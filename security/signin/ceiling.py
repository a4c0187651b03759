"""The per-account ceiling: failures of one account across every IP, from the record.

Design: axes' buckets are per (address, IP), so nobody can lock a person out from elsewhere, but
a botnet rotating addresses is not slowed by them (20 IPs x 5 tries = 100 passwords). The ceiling
counts the account's wrong passwords and wrong codes of the tenant's window (default 30 in 12 h)
in the record itself: the LoginEvent rows with reason ``bad_credentials`` or ``mfa_failed``.
Refused attempts (``account_throttled``, ``locked_out``) do not count, so the number of
passwords checked for unrecognised browsers in any window is at most the ceiling, and the
ceiling lifts by itself as the window slides past the failures.

Cost: one query on an index led by the tenant (``(tenant, user, -occurred_at)``), bounded twice:
the time bounds are constants, so only the window's day partitions are planned and scanned, and
``LIMIT ceiling`` stops the count at the ceiling however many rows a botnet wrote. No Redis, no
write. Skipped altogether for a browser holding a valid device cookie of the account.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accounts.models import User
from activity.models import LoginEvent, Outcome, Reason
from security.policies.lockout.rules import LockoutRules

COUNTED_REASONS = (Reason.BAD_CREDENTIALS, Reason.MFA_FAILED)


def account_failures_count(*, user: User, rules: LockoutRules, now: datetime | None = None) -> int:
    """The account's counted failures within the ceiling's window, up to the ceiling."""
    if user.tenant is None:
        return 0
    now = now or timezone.now()
    # Both bounds are constants in the SQL: only the window's day partitions are planned (the
    # upper bound keeps the days created ahead and DEFAULT out of the plan).
    return (LoginEvent.objects.for_tenant(user.tenant)
            .filter(user=user, occurred_at__gte=now - rules.ceiling_window, occurred_at__lte=now,
                    outcome=Outcome.FAILURE,
                    reason__in=COUNTED_REASONS)
            .order_by()[:rules.ceiling].count())


def account_ceiling_reached(*, user: User, rules: LockoutRules, now: datetime | None = None) -> bool:
    return account_failures_count(user=user, rules=rules, now=now) >= rules.ceiling
