"""Lockout rules: the tenant's failure limit and cool-off, clamped.

Design: django-axes does the counting (on the normalised address and the client IP, see
``security.signin.lockout``); this package holds the tenant's numbers. A lockout always ends by
itself after the cool-off: axes' permanent lockout is never reachable (``cooloff_minutes`` ≥ 1),
so an attacker cannot lock a person out for good by guessing wrong on purpose.

The per-account ceiling (``account_ceiling`` failures within ``ceiling_hours``, counted across
every IP by ``security.signin.ceiling``) bounds what a botnet rotating addresses can try; it
refuses only browsers without a valid device cookie of the account
(``security.signin.device_cookies``), so the owner keeps signing in from their own laptop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

FAILURE_LIMIT_MIN, FAILURE_LIMIT_MAX, FAILURE_LIMIT_DEFAULT = 3, 50, 5
COOLOFF_MIN, COOLOFF_MAX, COOLOFF_DEFAULT = 1, 1440, 15
CEILING_MIN, CEILING_MAX, CEILING_DEFAULT = 10, 1000, 30
CEILING_HOURS_MIN, CEILING_HOURS_MAX, CEILING_HOURS_DEFAULT = 1, 168, 12


class LockoutSettings(Protocol):
    """What the rules read from a ``LockoutPolicy`` row (the model imports this module)."""

    failure_limit: int
    cooloff_minutes: int
    account_ceiling: int
    ceiling_hours: int


@dataclass(frozen=True, slots=True)
class LockoutRules:
    failure_limit: int = FAILURE_LIMIT_DEFAULT
    cooloff_minutes: int = COOLOFF_DEFAULT
    account_ceiling: int = CEILING_DEFAULT
    ceiling_hours: int = CEILING_HOURS_DEFAULT

    @classmethod
    def from_policy(cls, policy: LockoutSettings) -> LockoutRules:
        return cls(failure_limit=policy.failure_limit, cooloff_minutes=policy.cooloff_minutes,
                   account_ceiling=policy.account_ceiling, ceiling_hours=policy.ceiling_hours)

    @property
    def cooloff(self) -> timedelta:
        # Clamped again here: a row edited behind the validators must not become permanent.
        return timedelta(minutes=min(max(self.cooloff_minutes, COOLOFF_MIN), COOLOFF_MAX))

    @property
    def limit(self) -> int:
        return min(max(self.failure_limit, FAILURE_LIMIT_MIN), FAILURE_LIMIT_MAX)

    @property
    def ceiling(self) -> int:
        """Failures of one account, across all IPs, after which unrecognised browsers are refused."""
        return min(max(self.account_ceiling, CEILING_MIN), CEILING_MAX)

    @property
    def ceiling_window(self) -> timedelta:
        return timedelta(hours=min(max(self.ceiling_hours, CEILING_HOURS_MIN), CEILING_HOURS_MAX))

    @property
    def device_limit(self) -> int:
        """Failures of one device cookie within the ceiling's window after which it stops
        counting as recognised (OWASP: lock out the device cookie, not the account)."""
        return self.limit


DEFAULT_RULES = LockoutRules()
