"""What the "My security" page reads: the person's second factors, recent sign-ins, and which of
those they have already reported. Reads only; each query is scoped to the person's tenant."""

from __future__ import annotations

from dataclasses import dataclass

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
from security.policies.mfa.rules import mfa_required_for
from security.policies.mfa.selectors import mfa_rules_for
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
