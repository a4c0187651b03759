"""Password recovery ("Forgot password?"): asking for a link, using it, the helpdesk's send.

Design:
- **No enumeration.** ``password_reset_request`` answers every address the same way (it returns
  nothing; the view redirects to one page) and does the same work for each: both throttle rows,
  the person and mail-domain look-ups, one new token and its SHA-256, one rendering of the e-mail.
  Only an active person of an active tenant, under the address's limit, gets a row and an e-mail;
  suspended, offboarded and invited people, operators and unknown addresses are refused silently
  (the audit trail says why).
- **Rate limits from the database**, as the sign-in's account ceiling is counted from the record
  and django-axes keeps its attempts there: no Redis on the request path, shared by every web
  process, and the sweep forgets the rows. Per address, beyond the limit nothing is sent and the
  page is the same; per IP (independent of the address, so it tells nothing) the page says so.
- **One link at a time.** A new link revokes the person's older ones (under a lock of the person's
  row, so two requests at once leave one), a used link revokes the rest, offboarding revokes all
  (``password_resets_revoke_all``).
- **Using a link** sets the password under the tenant's rules, then ends every session, revokes
  every device cookie (and, if the person asks, every mail-client password), ends the lockout and
  the compromise's forced change. It does not sign the person in: the next sign-in goes through
  the whole pipeline, the second factor included when the policy asks for it.
- Every step is an audit entry with the client's IP and browser: request (sent or refused, and
  why), use, and a link refused because it expired, was used or was replaced.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.mailclients.services import mail_client_passwords_revoke_all
from accounts.models import User, normalize_email
from activity.capture import ClientInfo
from activity.models import Reason
from activity.services import audit_entry_record
from notifications.services import email_enqueue
from security.policies.password.services import password_record_change
from security.policies.password.validators import password_validators_for
from security.recovery.models import PasswordReset, PasswordResetThrottle
from security.sessions.services import user_sessions_end_all
from security.signin.device_cookies import device_cookies_revoke
from security.signin.lockout import lockout_reset
from tenants.models import MailDomain, Tenant
from tenants.roles import Cap, can_manage, role_has

logger = logging.getLogger(__name__)

THROTTLE_WINDOW = timedelta(hours=1)
TOKEN_MAX_LENGTH = 128
AUDIT_FIELD = "password_reset"


@dataclass(frozen=True)
class IssuedReset:
    reset: PasswordReset
    token: str  # only ever in memory and in the e-mail

    @property
    def path(self) -> str:
        return reset_path(reset_id=self.reset.pk, token=self.token)

    @property
    def url(self) -> str:
        return settings.PUBLIC_BASE_URL + self.path


class ResetThrottled(Exception):
    """Too many requests from this IP in the last hour (says nothing about any address)."""


class ResetLinkInvalid(Exception):
    """The link is unknown, tampered with, used, replaced or expired: one message for all."""

    def __init__(self) -> None:
        self.message = _("This link is no longer valid. Ask for a new one from the sign-in page.")
        super().__init__(self.message)


def reset_path(*, reset_id: int, token: str) -> str:
    return reverse("password_reset_confirm", kwargs={"reset_id": reset_id, "token": token})


def _token_new() -> tuple[str, str]:
    """A new link's token and the SHA-256 that is stored (every request makes exactly one)."""
    token = secrets.token_urlsafe(32)
    return token, _token_hash(token)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ttl() -> timedelta:
    return timedelta(minutes=settings.PASSWORD_RESET_TTL_MINUTES)


def _client_data(client: ClientInfo) -> dict[str, Any]:
    return {"ip": client.ip, "country": client.country,
            "browser": f"{client.browser_family} {client.browser_version}".strip(),
            "os": f"{client.os_family} {client.os_version}".strip(),
            "device": str(client.device_type)}


def _audit(*, obj: User | Tenant, actor: User | None, step: str, client: ClientInfo | None,
           **changes: str) -> None:
    audit_entry_record(
        obj=obj, actor=actor,
        changes={AUDIT_FIELD: ["", step], **{key: ["", value] for key, value in changes.items()}},
        additional_data=_client_data(client) if client is not None else None)


# --- Rate limits ----------------------------------------------------------------------------------


def _throttle_key(kind: str, value: str) -> str:
    # Keyed: the table never holds an address (or an IP) that a dictionary would give back.
    return salted_hmac("mailadmin.recovery.throttle", f"{kind}:{value}",
                       algorithm="sha256").hexdigest()


def _throttle_exceeded(*, kind: str, value: str, limit: int, now: datetime) -> bool:
    """Count this request, then whether the last hour's requests (this one included) exceed
    ``limit``; concurrent requests count each other."""
    key = _throttle_key(kind, value)
    PasswordResetThrottle.objects.create(key=key, at=now)
    recent = PasswordResetThrottle.objects.filter(key=key, at__gt=now - THROTTLE_WINDOW,
                                                  at__lte=now)
    return recent[: limit + 1].count() > limit


# --- Requesting a link ----------------------------------------------------------------------------


def _refusal(user: User | None, *, address_throttled: bool) -> str:
    """Why this request sends nothing ("" when it sends a link); for the audit trail only."""
    if user is None:
        return Reason.UNKNOWN_ACCOUNT
    if user.tenant is None:
        return "operator"
    if not user.tenant.is_active:
        return Reason.TENANT_SUSPENDED
    if user.status != User.Status.ACTIVE:
        return {User.Status.SUSPENDED: Reason.ACCOUNT_SUSPENDED,
                User.Status.OFFBOARDED: Reason.ACCOUNT_OFFBOARDED,
                User.Status.INVITED: Reason.ACCOUNT_INVITED}.get(User.Status(user.status), "inactive")
    if address_throttled:
        return "rate_limited"
    return ""


def _email_content(*, tenant_name: str, language: str, url: str, user: User | None) -> tuple[str, str]:
    with translation.override(language):
        context = {"tenant": tenant_name, "user": user, "url": url,
                   "minutes": settings.PASSWORD_RESET_TTL_MINUTES,
                   "signin_url": settings.PUBLIC_BASE_URL + reverse("signin")}
        subject = _("Reset your %(tenant)s password") % {"tenant": tenant_name}
        body = render_to_string("security/recovery/email/password_reset.txt", context)
    return subject, body


def _reset_issue(*, user: User, tenant: Tenant, actor: User | None, token: str, token_hash: str,
                 now: datetime) -> IssuedReset:
    # Inside the caller's transaction, with the person's row locked.
    PasswordReset.objects.for_tenant(tenant).filter(
        user=user, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    reset = PasswordReset.objects.create(tenant=tenant, user=user, token_hash=token_hash,
                                         requested_by=actor, created_at=now, expires_at=now + _ttl())
    issued = IssuedReset(reset=reset, token=token)
    language = user.language or tenant.language
    subject, body = _email_content(tenant_name=tenant.name, language=language, url=issued.url,
                                   user=user)
    # Through the outbox, in the link's transaction: the e-mail exists exactly when the link does.
    with translation.override(language):  # the outbox row keeps the language it was written in
        email_enqueue(tenant=tenant, to=user.email, subject=subject, body=body, user=user,
                      kind="password_reset", idempotency_key=f"password-reset:{reset.pk}")
    return issued


def _lock_person(user: User) -> None:
    # Serialises a person's links: two requests at once leave one link, not two.
    User.objects.select_for_update().filter(pk=user.pk).first()


def password_reset_request(*, email: str, client: ClientInfo, now: datetime | None = None) -> None:
    """"Forgot password?": e-mail a single-use, expiring link to an active person; for any other
    address do the same work and send nothing. Raises ``ResetThrottled`` past the IP's limit."""
    now = now or timezone.now()
    if _throttle_exceeded(kind="ip", value=client.ip, limit=settings.PASSWORD_RESET_PER_IP_PER_HOUR,
                          now=now):
        logger.info("password reset requests over the limit from %s", client.ip)
        raise ResetThrottled
    address = normalize_email(email)[:254]
    address_throttled = _throttle_exceeded(kind="address", value=address, now=now,
                                           limit=settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR)
    user = User.objects.select_related("tenant").filter(email=address).first()
    domain = (MailDomain.objects.select_related("tenant")
              .filter(domain=address.rpartition("@")[2]).first())
    token, token_hash = _token_new()
    refusal = _refusal(user, address_throttled=address_throttled)
    with transaction.atomic():
        if user is not None and user.tenant is not None and not refusal:
            _lock_person(user)
            _reset_issue(user=user, tenant=user.tenant, actor=None, token=token,
                         token_hash=token_hash, now=now)
            _audit(obj=user, actor=None, step="link requested and sent", client=client)
            return
        # The same rendering as a real e-mail, so a refusal costs what a link costs.
        tenant = user.tenant if user is not None and user.tenant is not None else (
            domain.tenant if domain is not None else None)
        _email_content(tenant_name=tenant.name if tenant else "", user=user, url=reset_path(
            reset_id=0, token=token), language=tenant.language if tenant else settings.LANGUAGE_CODE)
        if user is not None:
            _audit(obj=user, actor=None, step="link requested, nothing sent", client=client,
                   reason=refusal)
        elif tenant is not None:  # an unknown address on a tenant's domain: that tenant's trail
            _audit(obj=tenant, actor=None, step="link requested, nothing sent", client=client,
                   reason=refusal, address=address)


def password_reset_send(*, tenant: Tenant, actor: User, person: User) -> IssuedReset:
    """Helpdesk or admin (``Cap.PEOPLE_UNLOCK``): e-mail ``person`` a reset link, the same e-mail
    as "Forgot password?"; earlier links stop working; audited."""
    if person.tenant_id != tenant.pk:
        raise ValidationError(_("Unknown person."), code="tenant")
    if actor.tenant_id != tenant.pk or not role_has(actor.role, Cap.PEOPLE_UNLOCK):
        raise ValidationError(_("You are not allowed to send password reset links."), code="capability")
    if actor.pk != person.pk and not can_manage(actor.role, person.role):
        raise ValidationError(_("You cannot manage a person with this role."), code="rank")
    if person.status != User.Status.ACTIVE or not tenant.is_active:
        raise ValidationError(_("Only an active person can be sent a password reset link."),
                              code="status")
    now = timezone.now()
    token, token_hash = _token_new()
    with transaction.atomic():
        _lock_person(person)
        issued = _reset_issue(user=person, tenant=tenant, actor=actor, token=token,
                              token_hash=token_hash, now=now)
        _audit(obj=person, actor=actor, step="link sent by an administrator", client=None)
    return issued


def password_resets_revoke_all(*, user: User) -> int:
    """Every unused link of ``user`` stops working (offboarding); returns how many. Who may do it
    and its audit entry are the caller's."""
    if user.tenant_id is None:
        return 0
    return (PasswordReset.objects.filter(tenant_id=user.tenant_id, user=user, used_at__isnull=True,
                                         revoked_at__isnull=True)
            .update(revoked_at=timezone.now()))


# --- Using a link ---------------------------------------------------------------------------------


def _problem(reset: PasswordReset, now: datetime) -> str:
    if reset.used_at is not None:
        return "used"
    if reset.revoked_at is not None:
        return "replaced or revoked"
    if reset.expires_at <= now:
        return "expired"
    user = reset.user
    if user.status != User.Status.ACTIVE or not reset.tenant.is_active:
        return "account not active"
    return ""


def password_reset_get_valid(*, reset_id: int, token: str, client: ClientInfo | None = None,
                             now: datetime | None = None) -> PasswordReset:
    """The link's row, if the link may still be used; otherwise ``ResetLinkInvalid`` (a refusal
    of a real link is audited: expired, used, replaced)."""
    now = now or timezone.now()
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise ResetLinkInvalid
    # The id names the row (and its tenant); the token proves the link. A wrong token is as
    # unknown as a wrong id, and is compared in constant time.
    reset = (PasswordReset.objects.select_related("user", "tenant", "user__tenant")
             .filter(pk=reset_id).first())
    if reset is None or not hmac.compare_digest(reset.token_hash, _token_hash(token)):
        raise ResetLinkInvalid
    problem = _problem(reset, now)
    if problem:
        _audit(obj=reset.user, actor=None, step="link refused", client=client, reason=problem)
        raise ResetLinkInvalid
    return reset


def password_reset_complete(*, reset_id: int, token: str, password: str, client: ClientInfo,
                            sign_out_mail_clients: bool = False, now: datetime | None = None) -> User:
    """Set the person's new password from a valid link (the tenant's rules), use the link up,
    end every session and device cookie (and mail-client passwords if asked), end the lockout
    and a forced change; audited. Never signs in. ``ValidationError``: nothing changed."""
    now = now or timezone.now()
    reset = password_reset_get_valid(reset_id=reset_id, token=token, client=client, now=now)
    user = reset.user
    validate_password(password, user, password_validators=password_validators_for(user))
    if user.must_change_password and user.check_password(password):
        raise ValidationError(_("Your account was secured after a compromise: choose a password "
                                "different from the one you had."), code="password_reused")
    with transaction.atomic():
        _lock_person(user)
        # Two tabs submitting the same link: the second finds it used.
        locked = (PasswordReset.objects.select_for_update()
                  .filter(tenant_id=reset.tenant_id, pk=reset.pk).first())
        if locked is None or locked.used_at is not None or locked.revoked_at is not None:
            raise ResetLinkInvalid
        was_flagged = user.must_change_password
        user.set_password(password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        password_record_change(user=user, new_hash=user.password, now=now)
        locked.used_at = now
        locked.save(update_fields=["used_at"])
        PasswordReset.objects.for_tenant(reset.tenant).filter(
            user=user, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
        sessions = user_sessions_end_all(user=user, reason=Reason.ACCOUNT_SECURED)
        devices = device_cookies_revoke(user=user)
        mail_passwords = (mail_client_passwords_revoke_all(user=user, actor=user)
                          if sign_out_mail_clients else 0)
        attempts = lockout_reset(person=user)
        _audit(obj=user, actor=None, step="link used, password changed", client=client,
               must_change_password=f"{was_flagged} -> False", sessions_ended=str(sessions),
               device_cookies_revoked=str(devices), mail_client_passwords_revoked=str(mail_passwords),
               lockout_attempts_removed=str(attempts))
        _done_email(user=user, tenant=reset.tenant, reset=locked, client=client)
    return user


def _done_email(*, user: User, tenant: Tenant, reset: PasswordReset, client: ClientInfo) -> None:
    # Tells the person at once if it was not them (the address is theirs, the link was too).
    with translation.override(user.language or tenant.language):
        context = {"tenant": tenant.name, "user": user, "ip": client.ip,
                   "browser": _client_data(client)["browser"],
                   "signin_url": settings.PUBLIC_BASE_URL + reverse("signin")}
        subject = _("Your %(tenant)s password was changed") % {"tenant": tenant.name}
        body = render_to_string("security/recovery/email/password_reset_done.txt", context)
        email_enqueue(tenant=tenant, to=user.email, subject=subject, body=body, user=user,
                      kind="password_reset_done", idempotency_key=f"password-reset-done:{reset.pk}")
