"""Session rules: the idle timeout and the absolute lifetime.

``session_state`` is pure and cheap: it runs on every request of an open session
(``security.sessions.middleware``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from activity.models import Reason
from security.policies.base import Decision

IDLE_MIN, IDLE_MAX, IDLE_DEFAULT = 5, 1440, 60
LIFETIME_MIN, LIFETIME_MAX, LIFETIME_DEFAULT = 1, 720, 12


class SessionSettings(Protocol):
    """What the rules read from a ``SessionPolicy`` row (the model imports this module)."""

    idle_timeout_minutes: int
    absolute_lifetime_hours: int


@dataclass(frozen=True, slots=True)
class SessionRules:
    idle_timeout_minutes: int = IDLE_DEFAULT
    absolute_lifetime_hours: int = LIFETIME_DEFAULT

    @classmethod
    def from_policy(cls, policy: SessionSettings) -> SessionRules:
        return cls(idle_timeout_minutes=policy.idle_timeout_minutes,
                   absolute_lifetime_hours=policy.absolute_lifetime_hours)

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.idle_timeout_minutes)

    @property
    def absolute_lifetime(self) -> timedelta:
        return timedelta(hours=self.absolute_lifetime_hours)


def session_state(started_at: datetime, last_seen_at: datetime, now: datetime,
                  rules: SessionRules) -> Decision:
    """Allow while the session is within both limits; the lifetime wins when both have passed."""
    if now - started_at >= rules.absolute_lifetime:
        return Decision.deny(Reason.SESSION_LIFETIME_ENDED)
    if now - last_seen_at >= rules.idle_timeout:
        return Decision.deny(Reason.SESSION_IDLE_TIMEOUT)
    return Decision.allow()
