"""Services and selectors of the account policies: password, MFA, lockout and sessions.

Every ``*_policy_get`` returns the tenant's row, materialising the defaults on first use (kept out
of the audit trail: nobody changed anything). Every ``*_policy_update`` is keyword-only, names its
actor, validates everything before writing and raises ``ValidationError`` with a translated
message and a code; on error nothing changes. ``*_rules_for`` builds the frozen rules the pure
checks take, so the sign-in pipeline never touches the models.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from auditlog.context import disable_auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from security.policies import mfa as mfa_module
from security.policies.base import Decision
from security.policies.lockout import (
    COOLOFF_MAX,
    COOLOFF_MIN,
    DEFAULT_RULES,
    FAILURE_LIMIT_MAX,
    FAILURE_LIMIT_MIN,
    LockoutPolicy,
    LockoutRules,
)
from security.policies.mfa import GRACE_MAX_DAYS, MfaPolicy, MfaRequirement, MfaRules
from security.policies.password import (
    EXPIRY_MAX_DAYS,
    HISTORY_MAX,
    MAX_LENGTH_CEILING,
    MAX_LENGTH_FLOOR,
    MIN_LENGTH_CEILING,
    MIN_LENGTH_FLOOR,
    PROFILE_SETTINGS,
    NonCompliance,
    PasswordExpiryReminder,
    PasswordHistory,
    PasswordPolicy,
    PasswordProfile,
    PasswordRules,
    PasswordState,
    compliance,
    context_words,
    domain_context_words,
    password_expires_at,
)
from security.policies.sessions import (
    IDLE_MAX,
    IDLE_MIN,
    LIFETIME_MAX,
    LIFETIME_MIN,
    SessionPolicy,
    SessionRules,
)
from tenants.models import MailDomain, Tenant
from tenants.roles import Cap

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

REMINDER_THRESHOLDS = (14, 7, 1)
EXPIRING_WINDOW_DAYS = 14


# --- Shared helpers -------------------------------------------------------------------------------


def _policy_get[P: models.Model](model: type[P], tenant: Tenant) -> P:
    existing = model._default_manager.filter(tenant=tenant).first()
    if existing is not None:
        return existing
    # Materialising the defaults is not a policy change: keep it out of the audit trail.
    with disable_auditlog():
        policy, _created = model._default_manager.get_or_create(tenant=tenant)
    return policy


def _policy_read[P: models.Model](model: type[P], tenant: Tenant) -> P | None:
    # Selectors read only: a tenant without a row yet simply has the defaults.
    return model._default_manager.filter(tenant=tenant).first()


def _locked[P: models.Model](model: type[P], tenant: Tenant) -> P:
    _policy_get(model, tenant)
    return model._default_manager.select_for_update().get(tenant=tenant)


def _check_actor(tenant: Tenant, actor: User) -> None:
    if actor.tenant_id != tenant.pk:
        raise ValidationError(_("You can only change your own company's policies."), code="wrong_tenant")
    if not actor.can(Cap.POLICY_MANAGE):
        raise ValidationError(_("You are not allowed to change policies."), code="capability")


def _int_in(value: Any, low: int, high: int, label: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= high:
        raise ValidationError(
            _("%(field)s must be a whole number from %(low)d to %(high)d."), code="out_of_range",
            params={"field": label, "low": low, "high": high})
    return number


def _choice(value: Any, choices: list[str], label: str) -> str:
    if value not in choices:
        raise ValidationError(_("Choose a valid %(field)s."), code="invalid_choice", params={"field": label})
    return str(value)


def _save_if_changed(policy: models.Model, actor: User, values: dict[str, Any]) -> None:
    changed = [name for name, value in values.items() if getattr(policy, name) != value]
    if not changed:
        return  # an unchanged form submitted again is not an audit entry
    for name in changed:
        setattr(policy, name, values[name])
    policy.updated_by = actor  # type: ignore[attr-defined]
    policy.save()


# --- Password -------------------------------------------------------------------------------------


def password_policy_get(*, tenant: Tenant) -> PasswordPolicy:
    return _policy_get(PasswordPolicy, tenant)


def tenant_context_words(*, tenant: Tenant) -> tuple[str, ...]:
    """The tenant's words a password may not contain: name, slug, its mail domains' labels."""
    words = set(context_words(tenant.name, tenant.slug))
    for domain in MailDomain.objects.for_tenant(tenant).values_list("domain", flat=True):
        words.update(domain_context_words(domain))
    return tuple(sorted(words))


def password_rules_for(*, tenant: Tenant | None) -> PasswordRules:
    """The tenant's password rules for the pure checks (two queries)."""
    if tenant is None:
        return PasswordRules()
    policy = _policy_read(PasswordPolicy, tenant) or PasswordPolicy(tenant=tenant)
    return PasswordRules.from_policy(policy, context_words=tenant_context_words(tenant=tenant))


@transaction.atomic
def password_policy_update(
    *, tenant: Tenant, actor: User, profile: str, on_noncompliant: str,
    min_length: Any = None, max_length: Any = None, require_upper: bool = False,
    require_lower: bool = False, require_digit: bool = False, require_symbol: bool = False,
    history_count: Any = 0, expiry_days: Any = 0,
) -> PasswordPolicy:
    """Choose a profile (its knobs win) or set custom knobs; validated before anything is saved."""
    _check_actor(tenant, actor)
    profile = _choice(profile, PasswordProfile.values, _("profile"))
    on_noncompliant = _choice(on_noncompliant, NonCompliance.values, _("non-compliance action"))
    if profile == PasswordProfile.CUSTOM:
        values: dict[str, Any] = {
            "min_length": _int_in(min_length, MIN_LENGTH_FLOOR, MIN_LENGTH_CEILING, _("Minimum length")),
            "max_length": _int_in(max_length, MAX_LENGTH_FLOOR, MAX_LENGTH_CEILING, _("Maximum length")),
            "require_upper": bool(require_upper), "require_lower": bool(require_lower),
            "require_digit": bool(require_digit), "require_symbol": bool(require_symbol),
            "history_count": _int_in(history_count, 0, HISTORY_MAX, _("Password history")),
            "expiry_days": _int_in(expiry_days, 0, EXPIRY_MAX_DAYS, _("Expiry")),
        }
        if values["min_length"] > values["max_length"]:
            raise ValidationError(_("The minimum length cannot be greater than the maximum length."),
                                  code="min_over_max")
    else:
        values = dict(PROFILE_SETTINGS[profile])
    values.update(profile=profile, on_noncompliant=on_noncompliant)
    policy = _locked(PasswordPolicy, tenant)
    _save_if_changed(policy, actor, values)
    return policy


def password_state_get(*, user: User) -> PasswordState | None:
    if user.tenant_id is None:
        return None
    return PasswordState.objects.filter(tenant_id=user.tenant_id, user=user).first()


@transaction.atomic
def password_record_change(*, user: User, new_hash: str, now: datetime | None = None) -> PasswordState | None:
    """Call after a person's password changed: restarts expiry, remembers the hash for history."""
    if user.tenant_id is None:
        return None  # operators are outside tenant policies
    now = now or timezone.now()
    keep = PasswordPolicy.objects.filter(tenant_id=user.tenant_id).values_list(
        "history_count", flat=True).first() or 0
    if keep:
        PasswordHistory.objects.create(tenant_id=user.tenant_id, user=user, password_hash=new_hash)
        # Keep only what the policy needs: every stored hash is one more thing to crack.
        stale = (PasswordHistory.objects.filter(tenant_id=user.tenant_id, user=user)
                 .order_by("-created_at", "-id").values_list("pk", flat=True)[keep:])
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()
    else:
        PasswordHistory.objects.filter(tenant_id=user.tenant_id, user=user).delete()
    state, _created = PasswordState.objects.update_or_create(
        user=user, defaults={"tenant_id": user.tenant_id, "changed_at": now, "compliant": True,
                             "compliance_checked_at": now})
    return state


def password_signin_check(*, user: User, password: str, now: datetime | None = None) -> Decision:
    """The password-compliance step of sign-in (after the password was verified); reads only."""
    if user.tenant_id is None:
        return Decision.allow()
    state = password_state_get(user=user)
    return compliance(password, user, password_rules_for(tenant=user.tenant),
                      changed_at=state.changed_at if state else None, now=now or timezone.now())


_READ = object()


def password_signin_compliance(*, user: User, password: str, rules: PasswordRules,
                               now: datetime, state: Any = _READ) -> Decision:
    """Sign-in's compliance step: check the typed password against ``rules`` and remember the
    verdict for the admin page, with at most one read and a write only when the verdict changed.
    Pass ``state`` when the caller already read it (sign-in selects it with the person)."""
    if state is _READ:
        state = password_state_get(user=user)
    decision = compliance(password, user, rules, changed_at=state.changed_at if state else None, now=now)
    compliant = decision.reason != "password_change_required"
    if state is None:
        # First sign-in seen: the expiry clock starts now (see password_compliance_record).
        PasswordState.objects.get_or_create(
            user=user, defaults={"tenant_id": user.tenant_id, "changed_at": now,
                                 "compliant": compliant, "compliance_checked_at": now})
    elif state.compliant != compliant:
        PasswordState.objects.filter(pk=state.pk).update(compliant=compliant, compliance_checked_at=now)
    return decision


def password_compliance_record(*, user: User, compliant: bool, now: datetime | None = None) -> PasswordState | None:
    """Remember whether the password typed at this sign-in met the policy (for the admin page).

    A person seen for the first time starts their expiry clock now: we cannot know when their
    password was really set, and expiring everyone at once when a tenant turns expiry on is worse.
    """
    if user.tenant_id is None:
        return None
    now = now or timezone.now()
    state, created = PasswordState.objects.get_or_create(
        user=user, defaults={"tenant_id": user.tenant_id, "changed_at": now, "compliant": compliant,
                             "compliance_checked_at": now})
    if not created:
        PasswordState.objects.filter(pk=state.pk).update(compliant=compliant, compliance_checked_at=now)
        state.compliant, state.compliance_checked_at = compliant, now
    return state


def password_noncompliant_list(*, tenant: Tenant) -> models.QuerySet[PasswordState]:
    return (PasswordState.objects.for_tenant(tenant).filter(compliant=False)
            .select_related("user").order_by("user__email"))


def password_expiring_list(*, tenant: Tenant, now: datetime | None = None,
                           within_days: int = EXPIRING_WINDOW_DAYS) -> list[tuple[PasswordState, datetime]]:
    """People whose password expired or expires within ``within_days``, soonest first."""
    policy = password_policy_get(tenant=tenant)
    if not policy.expiry_days:
        return []
    now = now or timezone.now()
    rules = PasswordRules.from_policy(policy)
    cutoff = now + timedelta(days=within_days) - timedelta(days=policy.expiry_days)
    states = (PasswordState.objects.for_tenant(tenant).filter(changed_at__lte=cutoff)
              .select_related("user").order_by("changed_at"))
    return [(state, password_expires_at(state.changed_at, rules)) for state in states]  # type: ignore[misc]


# --- Password expiry reminders ------------------------------------------------------------------


def password_expiry_reminders_send(*, now: datetime | None = None) -> int:
    """E-mail people whose password expires in exactly 14, 7 or 1 days (their tenant's calendar).

    Idempotent: a reminder row, unique per person, threshold and expiry date, is written before
    the e-mail goes out, so running this every hour (or twice at once) sends each reminder once.
    """
    from accounts.models import User

    now = now or timezone.now()
    sent = 0
    for policy in PasswordPolicy.objects.filter(expiry_days__gt=0).select_related("tenant"):
        tenant = policy.tenant
        if not tenant.is_active:
            continue
        zone = ZoneInfo(tenant.timezone)
        today = now.astimezone(zone).date()
        for threshold in REMINDER_THRESHOLDS:
            expires_on = today + timedelta(days=threshold)
            day_start = datetime.combine(expires_on, datetime.min.time(), tzinfo=zone)
            day_end = datetime.combine(expires_on + timedelta(days=1), datetime.min.time(), tzinfo=zone)
            expiry = timedelta(days=policy.expiry_days)
            states = (PasswordState.objects.for_tenant(tenant)
                      .filter(changed_at__gte=day_start - expiry, changed_at__lt=day_end - expiry,
                              user__status=User.Status.ACTIVE)
                      .select_related("user"))
            for state in states:
                if _reminder_claim(tenant=tenant, user=state.user, threshold=threshold,
                                   expires_on=expires_on):
                    sent += 1
    return sent


def _reminder_claim(*, tenant: Tenant, user: User, threshold: int, expires_on: Any) -> bool:
    try:
        with transaction.atomic():
            PasswordExpiryReminder.objects.create(tenant=tenant, user=user, threshold_days=threshold,
                                                  expires_on=expires_on)
            transaction.on_commit(lambda: _reminder_email(tenant=tenant, user=user, days=threshold))
    except IntegrityError:
        return False  # already sent (or being sent by a concurrent run)
    return True


def _reminder_email(*, tenant: Tenant, user: User, days: int) -> None:
    with translation.override(user.language or tenant.language):
        context = {"tenant": tenant, "user": user, "days": days,
                   "url": settings.PUBLIC_BASE_URL + reverse("password_change")}
        subject = translation.ngettext(
            "Your %(tenant)s password expires in %(days)d day",
            "Your %(tenant)s password expires in %(days)d days", days) % {"tenant": tenant.name, "days": days}
        body = render_to_string("security/policies/email/password_expiry.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except OSError:
        # A reminder is a courtesy: at expiry the sign-in asks for a new password anyway.
        logger.exception("password expiry reminder to user %s failed", user.pk)


# --- MFA ------------------------------------------------------------------------------------------


def mfa_policy_get(*, tenant: Tenant) -> MfaPolicy:
    return _policy_get(MfaPolicy, tenant)


def mfa_rules_for(*, tenant: Tenant | None) -> MfaRules:
    policy = _policy_read(MfaPolicy, tenant) if tenant is not None else None
    return MfaRules.from_policy(policy) if policy is not None else MfaRules()


@transaction.atomic
def mfa_policy_update(*, tenant: Tenant, actor: User, requirement: str, grace_days: Any,
                      now: datetime | None = None) -> MfaPolicy:
    """Set the requirement; raising it starts a new grace period of ``grace_days``."""
    _check_actor(tenant, actor)
    requirement = _choice(requirement, MfaRequirement.values, _("requirement"))
    grace = _int_in(grace_days, 0, GRACE_MAX_DAYS, _("Grace period"))
    policy = _locked(MfaPolicy, tenant)
    values: dict[str, Any] = {"requirement": requirement, "grace_days": grace}
    if mfa_module.is_raise(policy.requirement, requirement):
        values["grace_started_at"] = now or timezone.now()
    elif requirement not in (MfaRequirement.REQUIRED_ADMINS, MfaRequirement.REQUIRED_ALL):
        values["grace_started_at"] = None
    _save_if_changed(policy, actor, values)
    return policy


# --- Lockout --------------------------------------------------------------------------------------


def lockout_policy_get(*, tenant: Tenant) -> LockoutPolicy:
    return _policy_get(LockoutPolicy, tenant)


def lockout_rules_for(*, tenant: Tenant | None) -> LockoutRules:
    policy = _policy_read(LockoutPolicy, tenant) if tenant is not None else None
    return LockoutRules.from_policy(policy) if policy is not None else DEFAULT_RULES


def lockout_rules_for_domain(*, domain: str) -> LockoutRules:
    """The rules of the tenant owning this mail domain (one query, no writes), else the defaults."""
    if not domain:
        return DEFAULT_RULES
    row = (LockoutPolicy.objects.filter(tenant__maildomain__domain=domain)
           .values_list("failure_limit", "cooloff_minutes").first())
    if row is None:
        return DEFAULT_RULES
    return LockoutRules(failure_limit=row[0], cooloff_minutes=row[1])


@transaction.atomic
def lockout_policy_update(*, tenant: Tenant, actor: User, failure_limit: Any,
                          cooloff_minutes: Any) -> LockoutPolicy:
    """Set the failure limit and cool-off; there is no permanent lockout to choose."""
    _check_actor(tenant, actor)
    values = {
        "failure_limit": _int_in(failure_limit, FAILURE_LIMIT_MIN, FAILURE_LIMIT_MAX,
                                 _("Failed attempts before lockout")),
        "cooloff_minutes": _int_in(cooloff_minutes, COOLOFF_MIN, COOLOFF_MAX, _("Lockout duration")),
    }
    policy = _locked(LockoutPolicy, tenant)
    _save_if_changed(policy, actor, values)
    return policy


# --- Sessions -------------------------------------------------------------------------------------


def session_policy_get(*, tenant: Tenant) -> SessionPolicy:
    return _policy_get(SessionPolicy, tenant)


def session_rules_for(*, tenant: Tenant | None) -> SessionRules:
    policy = _policy_read(SessionPolicy, tenant) if tenant is not None else None
    return SessionRules.from_policy(policy) if policy is not None else SessionRules()


@transaction.atomic
def session_policy_update(*, tenant: Tenant, actor: User, idle_timeout_minutes: Any,
                          absolute_lifetime_hours: Any) -> SessionPolicy:
    """Set the idle timeout and the absolute lifetime (the idle timeout cannot exceed it)."""
    _check_actor(tenant, actor)
    values = {
        "idle_timeout_minutes": _int_in(idle_timeout_minutes, IDLE_MIN, IDLE_MAX, _("Idle timeout")),
        "absolute_lifetime_hours": _int_in(absolute_lifetime_hours, LIFETIME_MIN, LIFETIME_MAX,
                                           _("Maximum session length")),
    }
    if values["idle_timeout_minutes"] > values["absolute_lifetime_hours"] * 60:
        raise ValidationError(_("The idle timeout cannot be longer than the maximum session length."),
                              code="idle_over_lifetime")
    policy = _locked(SessionPolicy, tenant)
    _save_if_changed(policy, actor, values)
    return policy
