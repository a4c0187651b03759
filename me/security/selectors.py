"""What the "My security" page reads: the person's second factors, recent sign-ins, and which of
those they have already reported. Reads only; each query is scoped to the person's tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential

from accounts.mfa.models import EncryptedTOTPDevice
from accounts.mfa.selectors import (
    mfa_backup_codes_remaining,
    mfa_passkey_list,
    mfa_totp_device_list,
)
from accounts.models import User
from activity.lifetime import visible_since
from activity.models import LoginEvent, Outcome
from alerts.models import AlertEvidence
from alerts.report.services import REPORTABLE_OUTCOMES
from alerts.selectors import REPORT_RULE
from security.policies.mfa.rules import grace_days_left, mfa_required_for
from security.policies.mfa.selectors import mfa_rules_for
from security.policies.password.rules import password_expires_at
from security.policies.password.selectors import password_rules_for, password_state_get
from security.sessions.selectors import user_sessions_list
from tenants.models import Tenant

RECENT_SIGNINS = 10


def _tenant(user: User) -> Tenant:
    # @requires(Cap.SELF_SERVICE) lets only a company's people in: they have a tenant.
    assert user.tenant is not None
    return user.tenant


@dataclass(frozen=True, slots=True)
class MfaSummary:
    devices: list[EncryptedTOTPDevice]  # authenticator apps
    passkeys: list[WebAuthnCredential]
    backup_codes_remaining: int
    required: bool  # the company's policy requires a second factor of this person

    @property
    def enrolled(self) -> bool:
        return bool(self.devices or self.passkeys)

    @property
    def last_device_locked(self) -> bool:
        """The policy requires a second factor and this app or passkey is the only one: it stays
        (the rule ``mfa_device_remove`` and ``passkey_remove`` apply)."""
        return self.required and len(self.devices) + len(self.passkeys) == 1


def mfa_summary_get(*, user: User) -> MfaSummary:
    """The person's authenticator apps and passkeys, backup codes left, and whether the policy
    requires MFA."""
    rules = mfa_rules_for(tenant=_tenant(user))
    return MfaSummary(devices=list(mfa_totp_device_list(user=user)),
                      passkeys=list(mfa_passkey_list(user=user)),
                      backup_codes_remaining=mfa_backup_codes_remaining(user=user),
                      required=mfa_required_for(user.role, rules))


@dataclass(frozen=True, slots=True)
class RecentSignin:
    event: LoginEvent
    reported: bool  # the person already said "This wasn't me" about it

    @property
    def reportable(self) -> bool:
        return not self.reported and self.event.outcome in REPORTABLE_OUTCOMES


def reported_signin_ids(*, user: User, event_ids: list[int]) -> set[int]:
    """Which of ``event_ids`` the person has reported ("This wasn't me"), whatever the alert's status."""
    if not event_ids:
        return set()
    return set(AlertEvidence.objects.for_tenant(_tenant(user))
               .filter(event_kind="signin", event_id__in=event_ids,
                       alert__rule=REPORT_RULE, alert__user=user)
               .values_list("event_id", flat=True))


def recent_signins_list(*, user: User, limit: int = RECENT_SIGNINS) -> list[RecentSignin]:
    """The person's latest sign-in attempts and second-factor steps (no sign-outs), newest first."""
    tenant = _tenant(user)
    events = list(LoginEvent.objects.for_tenant(tenant)
                  .filter(user=user, occurred_at__gte=visible_since(tenant=tenant))
                  .exclude(outcome=Outcome.SIGNOUT)
                  .order_by("-occurred_at", "-id")[:limit])
    reported = reported_signin_ids(user=user, event_ids=[event.pk for event in events])
    return [RecentSignin(event=event, reported=event.pk in reported) for event in events]


PASSWORD_WARN_DAYS = 14  # the first password-expiry reminder's milestone
FEW_BACKUP_CODES = 3


@dataclass(frozen=True, slots=True)
class Glance:
    """An employee's account at a glance, where they land: what happened and what to do."""

    last_signin: LoginEvent | None  # the latest successful sign-in before the newest one
    failures_since: int  # failed attempts on the account since that sign-in
    sessions: int  # browsers and devices signed in now
    mfa: MfaSummary
    mfa_days_left: int | None  # days left to set up two-step sign-in; None: nothing to do
    password_expires: datetime | None  # set only when within PASSWORD_WARN_DAYS

    @property
    def few_backup_codes(self) -> bool:
        return self.mfa.enrolled and self.mfa.backup_codes_remaining < FEW_BACKUP_CODES

    @property
    def todo(self) -> bool:
        return (self.mfa_days_left is not None or self.password_expires is not None
                or self.few_backup_codes or self.failures_since > 0)


def account_glance_get(*, user: User, now: datetime | None = None) -> Glance:
    """The person's last sign-in before this one, failures since, sessions, two-step status and
    the things they should act on (set up two-step sign-in, an expiring password, few backup
    codes left). Scoped to the person's tenant; a handful of queries whatever the history."""
    tenant = _tenant(user)
    now = now or timezone.now()
    visible = (LoginEvent.objects.for_tenant(tenant)
               .filter(user=user, occurred_at__gte=visible_since(tenant=tenant)))
    successes = list(visible.filter(outcome=Outcome.SUCCESS).order_by("-occurred_at", "-id")[:2])
    # The newest success is usually this very sign-in: the one before it is "your last sign-in".
    last = successes[1] if len(successes) > 1 else None
    failures = (visible.filter(outcome=Outcome.FAILURE, occurred_at__gt=last.occurred_at).count()
                if last is not None else 0)
    mfa = mfa_summary_get(user=user)
    days_left = grace_days_left(user.role, mfa.enrolled, now, mfa_rules_for(tenant=tenant))
    state = password_state_get(user=user)
    expires = password_expires_at(state.changed_at if state else None, password_rules_for(tenant=tenant))
    warn = expires if expires is not None and expires - now <= timedelta(days=PASSWORD_WARN_DAYS) else None
    return Glance(last_signin=last, failures_since=failures, sessions=len(user_sessions_list(user=user)),
                  mfa=mfa, mfa_days_left=days_left, password_expires=warn)
