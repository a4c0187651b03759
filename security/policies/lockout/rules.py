"""Lockout rules: the tenant's failure limit and cool-off, clamped.

Design: django-axes does the counting (on the normalised address and the client IP, see
``security.signin.lockout``); this package holds the tenant's numbers. A lockout always ends by
itself after the cool-off: axes' permanent lockout is never reachable (``cooloff_minutes`` ≥ 1),
so an attacker cannot lock a person out for good by guessing wrong on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

FAILURE_LIMIT_MIN, FAILURE_LIMIT_MAX, FAILURE_LIMIT_DEFAULT = 3, 50, 5
COOLOFF_MIN, COOLOFF_MAX, COOLOFF_DEFAULT = 1, 1440, 15


class LockoutSettings(Protocol):
    """What the rules read from a ``LockoutPolicy`` row (the model imports this module)."""

    failure_limit: int
    cooloff_minutes: int


@dataclass(frozen=True, slots=True)
class LockoutRules:
    failure_limit: int = FAILURE_LIMIT_DEFAULT
    cooloff_minutes: int = COOLOFF_DEFAULT

    @classmethod
    def from_policy(cls, policy: LockoutSettings) -> LockoutRules:
        return cls(failure_limit=policy.failure_limit, cooloff_minutes=policy.cooloff_minutes)

    @property
    def cooloff(self) -> timedelta:
        # Clamped again here: a row edited behind the validators must not become permanent.
        return timedelta(minutes=min(max(self.cooloff_minutes, COOLOFF_MIN), COOLOFF_MAX))

    @property
    def limit(self) -> int:
        return min(max(self.failure_limit, FAILURE_LIMIT_MIN), FAILURE_LIMIT_MAX)


DEFAULT_RULES = LockoutRules()
