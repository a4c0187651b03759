"""People: create tenants with their first owner, invite, change roles, suspend, reactivate,
unlock and reset two-step sign-in.

Every service checks its own rules (the view only checks the capability) and raises
``ValidationError`` with a translated message and a code; on error nothing is changed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.mfa.services import mfa_devices_reset
from accounts.models import User, normalize_email
from activity.services import audit_entry_record
from notifications.services import email_enqueue
from security.policies.password.services import password_record_change
from security.policies.password.validators import password_validators_for
from security.sessions.services import user_sessions_end_all
from security.signin.lockout import locked_accounts_list, lockout_reset
from tenants.models import Invitation, MailDomain, Tenant, domain_validator, validate_timezone
from tenants.roles import Cap, Role, can_manage, role_has


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # only ever in memory and in the e-mail

    @property
    def path(self) -> str:
        return reverse("invitation_accept", kwargs={"token": self.token})

    @property
    def url(self) -> str:
        return settings.PUBLIC_BASE_URL + self.path


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_domain(domain: str) -> str:
    value = (domain or "").strip().lower().rstrip(".")
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError(_("Enter a valid mail domain, such as example.com."), code="domain") from exc
    domain_validator(value)
    return value


def _clean_email(email: str) -> str:
    value = normalize_email(email)
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(_("Enter a valid e-mail address."), code="email") from None
    return value


def _check_person_of(tenant: Tenant, person: User) -> None:
    if person.tenant_id != tenant.pk:
        raise ValidationError(_("Unknown person."), code="tenant")


def _check_actor(tenant: Tenant, actor: User, capability: Cap, refused: str) -> None:
    if actor.tenant_id != tenant.pk or not role_has(actor.role, capability):
        raise ValidationError(refused, code="capability")


def mail_domain_add(*, tenant: Tenant, actor: User | None, domain: str) -> MailDomain:
    """Claim a mail domain for a tenant; each domain belongs to one tenant on the platform."""
    value = _clean_domain(domain)
    if MailDomain.objects.filter(domain=value).exists():
        raise ValidationError(_("The domain %(domain)s is already in use."), code="domain_taken",
                              params={"domain": value})
    try:
        with transaction.atomic():
            return MailDomain.objects.create(tenant=tenant, domain=value)
    except IntegrityError:
        raise ValidationError(_("The domain %(domain)s is already in use."), code="domain_taken",
                              params={"domain": value}) from None


def tenant_create(
    *, name: str, domain: str, owner_email: str, timezone_name: str = "UTC",
    language: str = "en", slug: str | None = None,
) -> tuple[Tenant, IssuedInvitation]:
    """Operator action: a tenant with one mail domain and an invitation for its first owner."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("A tenant needs a name."), code="name")
    validate_timezone(timezone_name)
    slug_value = slugify(slug or name)[:60]
    if not slug_value:
        raise ValidationError(_("A tenant needs a name made of letters or digits."), code="slug")
    if Tenant.objects.filter(slug=slug_value).exists():
        raise ValidationError(_("A tenant with the slug %(slug)s already exists."), code="slug_taken",
                              params={"slug": slug_value})
    domain_value = _clean_domain(domain)
    email = _clean_email(owner_email)
    if email.rsplit("@", 1)[1] != domain_value:
        raise ValidationError(_("The owner's address must be on the tenant's domain %(domain)s."),
                              code="email_domain", params={"domain": domain_value})
    with transaction.atomic():
        tenant = Tenant.objects.create(name=name, slug=slug_value, timezone=timezone_name,
                                       language=language)
        mail_domain_add(tenant=tenant, actor=None, domain=domain_value)
        issued = person_invite(tenant=tenant, actor=None, email=email, display_name="",
                               role=Role.OWNER)
    return tenant, issued


def person_invite(
    *, tenant: Tenant, actor: User | None, email: str, display_name: str, role: str,
    language: str = "", timezone_name: str = "",
) -> IssuedInvitation:
    """Create an invited person and e-mail them a one-time link to set their password, in their
    language when one is given (an import file's column), else the company's. ``language`` and
    ``timezone_name`` are taken as validated by the caller."""
    value = _clean_email(email)
    if role not in Role.values:
        raise ValidationError(_("Choose a valid role."), code="role")
    if actor is not None:  # None: the operator's tenant_create
        _check_actor(tenant, actor, Cap.PEOPLE_INVITE, _("You are not allowed to invite people."))
    if actor is not None and role == Role.OWNER and not role_has(actor.role, Cap.PEOPLE_MAKE_OWNER):
        raise ValidationError(_("Only an owner can invite another owner."), code="owner_only")
    domain = value.rsplit("@", 1)[1]
    if not MailDomain.objects.for_tenant(tenant).filter(domain=domain).exists():
        raise ValidationError(
            _("%(email)s is not on one of your company's mail domains."), code="foreign_domain",
            params={"email": value},
        )
    if User.objects.filter(email=value).exists():
        raise ValidationError(_("%(email)s already has an account."), code="email_taken",
                              params={"email": value})
    try:
        with transaction.atomic():
            user = User(email=value, display_name=(display_name or "").strip()[:150], tenant=tenant,
                        role=role, status=User.Status.INVITED, language=language,
                        timezone=timezone_name)
            user.set_unusable_password()
            user.save()
            issued = _invitation_issue(tenant=tenant, user=user, actor=actor)
    except IntegrityError:
        raise ValidationError(_("%(email)s already has an account."), code="email_taken",
                              params={"email": value}) from None
    return issued


def _invitation_issue(*, tenant: Tenant, user: User, actor: User | None) -> IssuedInvitation:
    now = timezone.now()
    Invitation.objects.for_tenant(tenant).filter(
        user=user, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        tenant=tenant, user=user, invited_by=actor, token_hash=_hash_token(token),
        expires_at=now + timedelta(hours=settings.INVITATION_TTL_HOURS),
    )
    issued = IssuedInvitation(invitation=invitation, token=token)
    _invitation_email(issued=issued, user=user, tenant=tenant)
    return issued


def _invitation_email(*, issued: IssuedInvitation, user: User, tenant: Tenant) -> None:
    # Through the outbox, in the invitation's transaction: the e-mail exists exactly when the
    # invitation does, and a mail outage delays it instead of losing it.
    with translation.override(user.language or tenant.language):
        context = {"tenant": tenant, "user": user, "url": issued.url,
                    "hours": settings.INVITATION_TTL_HOURS}
        subject = _("You are invited to %(tenant)s on mailadmin") % {"tenant": tenant.name}
        body = render_to_string("people/email/invitation.txt", context)
        email_enqueue(tenant=tenant, to=user.email, subject=subject, body=body, user=user,
                      kind="invitation", idempotency_key=f"invitation:{issued.invitation.pk}")


def invitation_resend(*, tenant: Tenant, actor: User, person: User) -> IssuedInvitation:
    """A fresh link for a person who has not accepted yet; earlier links stop working."""
    _check_person_of(tenant, person)
    _check_actor(tenant, actor, Cap.PEOPLE_INVITE, _("You are not allowed to invite people."))
    if person.status != User.Status.INVITED:
        raise ValidationError(_("This person has already accepted the invitation."), code="accepted")
    if not can_manage(actor.role, person.role):
        raise ValidationError(_("You cannot manage a person with this role."), code="rank")
    with transaction.atomic():
        return _invitation_issue(tenant=tenant, user=person, actor=actor)


class InvitationInvalid(Exception):
    """The link is unknown, used, revoked or expired; ``message`` says which, translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def invitation_get_valid(*, token: str) -> Invitation:
    if not token or len(token) > 128:
        raise InvitationInvalid(_("This invitation link is not valid."))
    invitation = (
        Invitation.objects.select_related("user", "tenant")
        .filter(token_hash=_hash_token(token)).first()
    )
    if invitation is None:
        raise InvitationInvalid(_("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise InvitationInvalid(_("This invitation has already been used. Sign in instead."))
    if invitation.revoked_at is not None:
        raise InvitationInvalid(_("This invitation was replaced by a newer one. Use the latest e-mail."))
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid(_("This invitation has expired. Ask your administrator for a new one."))
    if invitation.user.status != User.Status.INVITED or not invitation.tenant.is_active:
        raise InvitationInvalid(_("This invitation is no longer valid."))
    return invitation


def invitation_accept(*, token: str, password: str, display_name: str = "") -> User:
    """Set the invited person's password (validated by their tenant's rules) and activate them."""
    with transaction.atomic():
        invitation = invitation_get_valid(token=token)
        # Lock the row: two tabs submitting the same link accept it once.
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise InvitationInvalid(_("This invitation has already been used. Sign in instead."))
        user = invitation.user
        if display_name.strip():
            user.display_name = display_name.strip()[:150]
        validate_password(password, user, password_validators=password_validators_for(user))
        user.set_password(password)
        user.status = User.Status.ACTIVE
        user.status_changed_at = timezone.now()
        user.save()
        password_record_change(user=user, new_hash=user.password)
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
    return user


def _lock_tenant(tenant: Tenant) -> None:
    # Serialises changes that count owners, so two demotions cannot both pass the check.
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()


def _other_active_owners(tenant: Tenant, person: User) -> bool:
    return (
        User.objects.for_tenant(tenant)
        .filter(role=Role.OWNER, status=User.Status.ACTIVE)
        .exclude(pk=person.pk).exists()
    )


def person_change_role(*, tenant: Tenant, actor: User, person: User, role: str) -> User:
    """Change a person's role: only owners make or unmake owners; the last owner stays."""
    if role not in Role.values:
        raise ValidationError(_("Choose a valid role."), code="role")
    _check_person_of(tenant, person)
    _check_actor(tenant, actor, Cap.PEOPLE_CHANGE_ROLE, _("You are not allowed to change roles."))
    touches_owner = Role.OWNER in (role, person.role)
    if touches_owner and not role_has(actor.role, Cap.PEOPLE_MAKE_OWNER):
        raise ValidationError(_("Only an owner can make or change an owner."), code="owner_only")
    if person.status == User.Status.OFFBOARDED:
        raise ValidationError(_("This person has been offboarded."), code="offboarded")
    if role == person.role:
        return person
    with transaction.atomic():
        _lock_tenant(tenant)
        person.refresh_from_db()
        if person.role == Role.OWNER and role != Role.OWNER and not _other_active_owners(tenant, person):
            raise ValidationError(
                _("%(name)s is the last owner. Make someone else an owner first."),
                code="last_owner", params={"name": person},
            )
        person.role = role
        person.save(update_fields=["role"])
    return person


def person_suspend(*, tenant: Tenant, actor: User, person: User) -> User:
    """Suspend a person: they cannot sign in and every session of theirs ends now."""
    _check_person_of(tenant, person)
    _check_actor(tenant, actor, Cap.PEOPLE_SUSPEND, _("You are not allowed to suspend people."))
    if person.pk == actor.pk:
        raise ValidationError(_("You cannot suspend yourself."), code="self")
    if not can_manage(actor.role, person.role):
        raise ValidationError(_("You cannot manage a person with this role."), code="rank")
    if person.status != User.Status.ACTIVE:
        raise ValidationError(_("Only an active person can be suspended."), code="status")
    with transaction.atomic():
        _lock_tenant(tenant)
        person.refresh_from_db()
        if person.role == Role.OWNER and not _other_active_owners(tenant, person):
            raise ValidationError(_("The last owner cannot be suspended."), code="last_owner")
        person.status = User.Status.SUSPENDED
        person.status_changed_at = timezone.now()
        person.save(update_fields=["status", "status_changed_at"])
        user_sessions_end_all(user=person)
    return person


def person_reactivate(*, tenant: Tenant, actor: User, person: User) -> User:
    """Let a suspended person sign in again."""
    _check_person_of(tenant, person)
    _check_actor(tenant, actor, Cap.PEOPLE_SUSPEND, _("You are not allowed to reactivate people."))
    if not can_manage(actor.role, person.role):
        raise ValidationError(_("You cannot manage a person with this role."), code="rank")
    if person.status != User.Status.SUSPENDED:
        raise ValidationError(_("Only a suspended person can be reactivated."), code="status")
    person.status = User.Status.ACTIVE
    person.status_changed_at = timezone.now()
    person.save(update_fields=["status", "status_changed_at"])
    return person


def person_unlock(*, tenant: Tenant, actor: User, person: User) -> int:
    """End a person's lockout now (every IP); recorded in the audit trail. Returns attempts removed."""
    _check_person_of(tenant, person)
    _check_actor(tenant, actor, Cap.PEOPLE_UNLOCK, _("You are not allowed to unlock accounts."))
    if person.pk != actor.pk and not can_manage(actor.role, person.role):
        raise ValidationError(_("You cannot manage a person with this role."), code="rank")
    if not locked_accounts_list(tenant=tenant, person=person):
        raise ValidationError(_("%(name)s is not locked out."), code="not_locked", params={"name": person})
    with transaction.atomic():
        removed = lockout_reset(person=person)
        audit_entry_record(obj=person, actor=actor, changes={"lockout": ["locked", "unlocked"]})
    return removed


def person_mfa_reset(*, tenant: Tenant, actor: User, person: User) -> int:
    """Helpdesk/admin: delete every MFA device of a person of this tenant (audited, e-mailed).

    Returns how many devices were removed; the person enrols again at the next sign-in.
    """
    _check_person_of(tenant, person)
    _check_actor(tenant, actor, Cap.PEOPLE_RESET_MFA,
                 _("You are not allowed to reset two-step sign-in."))
    if actor.pk != person.pk and not can_manage(actor.role, person.role):
        raise ValidationError(_("You cannot manage a person with this role."), code="rank")
    with transaction.atomic():
        removed = mfa_devices_reset(person=person)
        audit_entry_record(obj=person, actor=actor,
                           changes={"mfa": ["enrolled" if removed else "none", "reset"]})
    return removed
