"""What every policy check takes and returns.

A check is pure: ``evaluate(ctx: SignInContext, rules) -> Decision`` with no database access,
so the sign-in pipeline composes them and tests run in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _

from activity.models import Reason


class Mode(models.TextChoices):
    OFF = "off", _("Off")
    MONITOR = "monitor", _("Monitor (record, do not block)")
    ENFORCE = "enforce", _("Enforce")


class Channel(StrEnum):
    """Where a sign-in comes from: the console in a browser, or a mail client through Dovecot."""

    WEB = "web"
    MAIL = "mail"  # IMAP, POP3 and SMTP submission alike


class Channels(models.TextChoices):
    """Which sign-ins a policy that can refuse one governs (network allowlist, sign-in hours)."""

    BOTH = "both", _("The web console and mail clients")
    WEB = "web", _("The web console only")
    MAIL = "mail", _("Mail clients only (IMAP, POP3, SMTP)")


def channel_covered(channels: str, channel: Channel) -> bool:
    """Whether a policy set to ``channels`` governs a sign-in over ``channel``."""
    return channels == Channels.BOTH or channels == channel


class Verdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    CHALLENGE = "challenge"


@dataclass(frozen=True, slots=True)
class SignInContext:
    """The facts of one attempt that policies may look at."""

    ip: str  # from activity.clientip.client_ip, never a raw header
    now: datetime  # aware
    role: str  # tenants.roles.Role value
    user_id: int | None = None
    channel: Channel = Channel.WEB  # the mail decision (security.mailauth) says MAIL


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: Reason | str = ""  # a member of activity.models.Reason, or "" for a plain allow
    # Monitor mode: allowed, but the record says the policy would have denied.
    monitored: bool = False
    # Allowed for now, with a deadline: whole days left to comply (MFA enrolment's grace period).
    grace_days: int | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict == Verdict.ALLOW

    @classmethod
    def allow(cls) -> Decision:
        return _ALLOW

    @classmethod
    def allow_in_grace(cls, days: int) -> Decision:
        return cls(Verdict.ALLOW, grace_days=days)

    @classmethod
    def deny(cls, reason: Reason) -> Decision:
        return cls(Verdict.DENY, reason)

    @classmethod
    def challenge(cls, reason: Reason) -> Decision:
        return cls(Verdict.CHALLENGE, reason)

    @classmethod
    def would_deny(cls, reason: Reason) -> Decision:
        return cls(Verdict.ALLOW, reason, monitored=True)


_ALLOW = Decision(Verdict.ALLOW)
