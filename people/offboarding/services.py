"""Offboarding in one step, and the helpdesk's account actions on the person page.

Design notes
- ``person_offboard`` either carries the offboarding out now or schedules it (``User.offboard_at``)
  for the beat task (``people.offboarding.tasks``). Carrying out is one transaction per person,
  under a row lock that re-reads the status: a person is offboarded exactly once however many
  runs overlap, and a run killed half-way leaves only people the next run picks up.
- Carrying out closes every door at once: status OFFBOARDED (the sign-in pipeline and the mail
  passdb refuse it), every session ended with its sign-out row, every device cookie, MFA device
  (TOTP, backup codes, and whatever ``mfa_devices_reset`` covers), mail-client password, pending
  invitation and password-reset link revoked; then one audit entry says who, when and why.
- Refusals (translated, code set, nothing changed): yourself, the last active owner, a role
  yours may not manage, an offboarded person, a date in the past or too far ahead.
- Reactivating an offboarded person is an owner's act: they come back with no second factor and
  ``must_change_password``, so the pipeline makes them choose a new password and enrol an
  authenticator at their next sign-in whatever the MFA policy's grace period says.
- Writes to ``User`` are queryset updates with one explicit audit entry each, so the trail holds
  one row per action rather than auditlog's field diff beside ours.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.mailclients.services import mail_client_passwords_revoke_all
from accounts.mfa.services import mfa_devices_reset
from accounts.models import User
from activity.models import Reason
from activity.services import audit_entry_record
from people.services import _lock_tenant, _other_active_owners, invitation_resend
from security.recovery.services import password_resets_revoke_all
from security.sessions.services import user_sessions_end_all
from security.signin.device_cookies import device_cookies_revoke
from tenants.models import Invitation, Tenant
from tenants.roles import Cap, Role, can_manage, role_has

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 500
# How far ahead an offboarding may be scheduled: a date years away is a typing mistake.
SCHEDULE_MAX_DAYS = 366
DUE_BATCH = 200


def _clean_reason(reason: str) -> str:
    why = " ".join(str(reason or "").split())
    if not why:
        raise ValidationError(_("Say why this person is being offboarded."), code="reason")
    if len(why) > REASON_MAX_LENGTH:
        raise ValidationError(
            _("Keep the reason under %(limit)d characters."), code="reason_length",
            params={"limit": REASON_MAX_LENGTH},
        )
    return why


def _authorise(*, tenant: Tenant, actor: User, person: User, cap: Cap, refused: str,
               allow_self: bool = False, self_refused: str = "") -> None:
    """The checks every action here shares; raises before anything is changed."""
    if person.tenant_id != tenant.pk:
        raise ValidationError(_("Unknown person."), code="tenant")
    if actor.tenant_id != tenant.pk or not role_has(actor.role, cap):
        raise ValidationError(refused, code="capability")
    if person.pk == actor.pk and not allow_self:
        raise ValidationError(self_refused or _("You cannot do this to your own account."), code="self")
    if person.pk != actor.pk and not can_manage(actor.role, person.role):
        raise ValidationError(_("You cannot manage a person with this role."), code="rank")


def _refuse_last_owner(*, tenant: Tenant, person: User) -> None:
    if person.role == Role.OWNER and not _other_active_owners(tenant, person):
        raise ValidationError(
            _("%(name)s is the last active owner. Make someone else an owner first."),
            code="last_owner", params={"name": person},
        )


def _locked_person(person: User) -> User:
    """The person's row, locked and re-read, so every check below sees the committed state."""
    User.objects.select_for_update().filter(pk=person.pk).values_list("pk", flat=True).get()
    person.refresh_from_db()
    return person


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


# --- Offboarding -------------------------------------------------------------------------------


def person_offboard(*, tenant: Tenant, actor: User, person: User, reason: str,
                    effective_at: datetime | None = None) -> User:
    """Offboard a person now, or at ``effective_at`` (the beat task carries it out); audited."""
    why = _clean_reason(reason)
    _authorise(tenant=tenant, actor=actor, person=person, cap=Cap.PEOPLE_OFFBOARD,
               refused=_("You are not allowed to offboard people."),
               self_refused=_("You cannot offboard yourself."))
    now = timezone.now()
    if effective_at is not None:
        if timezone.is_naive(effective_at):
            raise ValidationError(_("Enter the date with its time zone."), code="naive_date")
        if effective_at > now + timedelta(days=SCHEDULE_MAX_DAYS):
            raise ValidationError(
                _("An offboarding can be scheduled at most %(days)d days ahead."),
                code="date_too_far", params={"days": SCHEDULE_MAX_DAYS},
            )
    with transaction.atomic():
        _lock_tenant(tenant)
        _locked_person(person)
        if person.status == User.Status.OFFBOARDED:
            raise ValidationError(_("%(name)s has already been offboarded."), code="offboarded",
                                  params={"name": person})
        _refuse_last_owner(tenant=tenant, person=person)
        if effective_at is not None and effective_at > now:
            return _offboard_schedule(actor=actor, person=person, reason=why, at=effective_at)
        _offboard_carry_out(tenant=tenant, person=person, actor=actor, reason=why, requested_by=actor)
    return person


def _offboard_schedule(*, actor: User, person: User, reason: str, at: datetime) -> User:
    before = {"offboard_at": _iso(person.offboard_at), "offboard_reason": person.offboard_reason}
    User.objects.filter(pk=person.pk).update(offboard_at=at, offboard_reason=reason,
                                             offboard_requested_by=actor)
    person.offboard_at, person.offboard_reason, person.offboard_requested_by = at, reason, actor
    audit_entry_record(obj=person, actor=actor, changes={
        "offboarding": ["scheduled" if before["offboard_at"] else "", "scheduled"],
        "offboard_at": [before["offboard_at"], _iso(at)],
        "offboard_reason": [before["offboard_reason"], reason],
    })
    return person


def _offboard_carry_out(*, tenant: Tenant, person: User, actor: User | None, reason: str,
                        requested_by: User | None) -> None:
    """Close every door of ``person`` (locked by the caller, in its transaction) and audit it."""
    now = timezone.now()
    old_status = person.status
    User.objects.filter(pk=person.pk).update(
        status=User.Status.OFFBOARDED, status_changed_at=now, offboard_at=now,
        offboard_reason=reason, offboard_requested_by=requested_by,
    )
    person.status, person.status_changed_at = User.Status.OFFBOARDED, now
    person.offboard_at, person.offboard_reason, person.offboard_requested_by = now, reason, requested_by
    sessions = user_sessions_end_all(user=person, reason=Reason.ENDED_BY_ADMIN)
    device_cookies = device_cookies_revoke(user=person)
    mfa_devices = mfa_devices_reset(person=person)
    mail_passwords = mail_client_passwords_revoke_all(user=person, actor=None)  # checked by the caller
    invitations = (Invitation.objects.for_tenant(tenant)
                   .filter(user=person, accepted_at__isnull=True, revoked_at__isnull=True)
                   .update(revoked_at=now))
    changes = {
        "status": [old_status, User.Status.OFFBOARDED],
        "offboarding": ["", "carried out"],
        "offboard_reason": ["", reason],
        "sessions_ended": ["", str(sessions)],
        "device_cookies_revoked": ["", str(device_cookies)],
        "mfa_devices_removed": ["", str(mfa_devices)],
        "mail_client_passwords_revoked": ["", str(mail_passwords)],
        "invitations_revoked": ["", str(invitations)],
        "password_reset_links_revoked": ["", str(password_resets_revoke_all(user=person))],
    }
    if requested_by is not None and requested_by != actor:
        changes["requested_by"] = ["", requested_by.email]
    audit_entry_record(obj=person, actor=actor if actor is not None else requested_by, changes=changes,
                       additional_data={"scheduled": actor is None})


def person_offboard_cancel(*, tenant: Tenant, actor: User, person: User) -> User:
    """Cancel a scheduled offboarding before it is carried out; audited."""
    _authorise(tenant=tenant, actor=actor, person=person, cap=Cap.PEOPLE_OFFBOARD,
               refused=_("You are not allowed to offboard people."),
               self_refused=_("You cannot offboard yourself."))
    with transaction.atomic():
        _locked_person(person)
        if person.status == User.Status.OFFBOARDED:
            raise ValidationError(
                _("%(name)s has already been offboarded; only an owner can reactivate them."),
                code="offboarded", params={"name": person})
        if person.offboard_at is None:
            raise ValidationError(_("No offboarding is scheduled for %(name)s."), code="not_scheduled",
                                  params={"name": person})
        before_at, before_reason = _iso(person.offboard_at), person.offboard_reason
        User.objects.filter(pk=person.pk).update(offboard_at=None, offboard_reason="",
                                                 offboard_requested_by=None)
        person.offboard_at, person.offboard_reason, person.offboard_requested_by = None, "", None
        audit_entry_record(obj=person, actor=actor, changes={
            "offboarding": ["scheduled", "cancelled"],
            "offboard_at": [before_at, ""],
            "offboard_reason": [before_reason, ""],
        })
    return person


def offboardings_due_carry_out(*, now: datetime | None = None, batch: int = DUE_BATCH) -> int:
    """Carry out every scheduled offboarding that is due (beat task); returns how many.

    One transaction per person, the row locked with SKIP LOCKED and its status read again: two
    overlapping runs never offboard a person twice, and a killed run loses nothing.
    """
    now = now or timezone.now()
    done = 0
    seen: set[int] = set()
    while True:
        rows = list(
            User.objects.filter(offboard_at__lte=now, offboard_at__isnull=False, tenant__isnull=False)
            .exclude(status=User.Status.OFFBOARDED).exclude(pk__in=seen)
            .order_by("offboard_at", "pk").values_list("pk", "tenant_id")[:batch]
        )
        if not rows:
            return done
        for pk, tenant_id in rows:
            seen.add(pk)
            if _offboard_due_one(pk=pk, tenant_id=tenant_id, now=now):
                done += 1


def _offboard_due_one(*, pk: int, tenant_id: int, now: datetime) -> bool:
    with transaction.atomic():
        # The tenant first, then the person: the order every service here locks them in.
        tenant = Tenant.objects.select_for_update().filter(pk=tenant_id).first()
        person = (User.objects.select_for_update(skip_locked=True, of=("self",))
                  .select_related("offboard_requested_by").filter(pk=pk, tenant_id=tenant_id).first())
        if (tenant is None or person is None or person.status == User.Status.OFFBOARDED
                or person.offboard_at is None or person.offboard_at > now):
            return False  # carried out, cancelled or rescheduled meanwhile, or another run has it
        requested_by = person.offboard_requested_by
        if person.role == Role.OWNER and not _other_active_owners(tenant, person):
            # The last owner by now: carrying it out would leave the company without one.
            reason = person.offboard_reason
            User.objects.filter(pk=person.pk).update(offboard_at=None, offboard_reason="",
                                                     offboard_requested_by=None)
            audit_entry_record(obj=person, actor=requested_by, changes={
                "offboarding": ["scheduled", "not carried out: last active owner"],
                "offboard_at": [_iso(person.offboard_at), ""],
                "offboard_reason": [reason, ""],
            }, additional_data={"scheduled": True})
            logger.warning("scheduled offboarding of user %s skipped: last active owner", person.pk)
            return False
        _offboard_carry_out(tenant=tenant, person=person, actor=None,
                            reason=person.offboard_reason, requested_by=requested_by)
    return True


def person_offboarded_reactivate(*, tenant: Tenant, actor: User, person: User) -> User:
    """Owner only: an offboarded person may sign in again, after a new password and new MFA.

    Someone who never accepted their invitation is invited again instead (a fresh link).
    """
    _authorise(tenant=tenant, actor=actor, person=person, cap=Cap.PEOPLE_MAKE_OWNER,
               refused=_("Only an owner can reactivate an offboarded person."),
               self_refused=_("You cannot reactivate yourself."))
    with transaction.atomic():
        _locked_person(person)
        if person.status != User.Status.OFFBOARDED:
            raise ValidationError(_("Only an offboarded person can be reactivated here."),
                                  code="status")
        # Nothing can have been enrolled while offboarded; this only makes "none left" certain.
        mfa_devices_reset(person=person)
        now = timezone.now()
        invited = not person.has_usable_password()
        new_status = User.Status.INVITED if invited else User.Status.ACTIVE
        User.objects.filter(pk=person.pk).update(
            status=new_status, status_changed_at=now, must_change_password=not invited,
            offboard_at=None, offboard_reason="", offboard_requested_by=None,
        )
        person.status, person.status_changed_at = new_status, now
        person.must_change_password = not invited
        person.offboard_at, person.offboard_reason, person.offboard_requested_by = None, "", None
        audit_entry_record(obj=person, actor=actor, changes={
            "status": [User.Status.OFFBOARDED, new_status],
            "reactivation": ["", "new password and new two-step sign-in required"
                             if not invited else "invited again"],
        })
        if invited:
            invitation_resend(tenant=tenant, actor=actor, person=person)
    return person


# --- Helpdesk actions ----------------------------------------------------------------------------


def person_require_password_change(*, tenant: Tenant, actor: User, person: User) -> User:
    """The person must choose a new password at their next sign-in (``must_change_password``).

    The flag also keeps their mail clients out until then, and a person without a second factor
    enrols one at that sign-in (the pipeline's rule for a secured account). Audited once.
    """
    _authorise(tenant=tenant, actor=actor, person=person, cap=Cap.PEOPLE_SUSPEND,
               refused=_("You are not allowed to require a password change."),
               self_refused=_("Change your own password on your profile instead."))
    with transaction.atomic():
        _locked_person(person)
        if person.status not in (User.Status.ACTIVE, User.Status.SUSPENDED):
            raise ValidationError(_("Only a person who has a password can be asked to change it."),
                                  code="status")
        if person.must_change_password:
            return person
        User.objects.filter(pk=person.pk).update(must_change_password=True)
        person.must_change_password = True
        audit_entry_record(obj=person, actor=actor,
                           changes={"must_change_password": ["False", "True"]})
    return person


def person_sessions_end(*, tenant: Tenant, actor: User, person: User) -> int:
    """End every session of the person now (each with its sign-out row); audited. Returns how many."""
    _authorise(tenant=tenant, actor=actor, person=person, cap=Cap.PEOPLE_SUSPEND,
               refused=_("You are not allowed to end people's sessions."),
               self_refused=_("End your own sessions on your sessions page instead."))
    with transaction.atomic():
        ended = user_sessions_end_all(user=person, reason=Reason.ENDED_BY_ADMIN)
        if ended:
            audit_entry_record(obj=person, actor=actor, changes={"sessions_ended": ["", str(ended)]})
    return ended


def invitation_revoke(*, tenant: Tenant, actor: User, person: User) -> int:
    """Revoke the person's pending invitation links (they stop working at once); audited."""
    _authorise(tenant=tenant, actor=actor, person=person, cap=Cap.PEOPLE_INVITE,
               refused=_("You are not allowed to manage invitations."),
               self_refused=_("You cannot revoke your own invitation."))
    with transaction.atomic():
        _locked_person(person)
        if person.status != User.Status.INVITED:
            raise ValidationError(_("This person has already accepted the invitation."), code="accepted")
        revoked = (Invitation.objects.for_tenant(tenant)
                   .filter(user=person, accepted_at__isnull=True, revoked_at__isnull=True)
                   .update(revoked_at=timezone.now()))
        if not revoked:
            raise ValidationError(_("%(name)s has no pending invitation."), code="no_invitation",
                                  params={"name": person})
        audit_entry_record(obj=person, actor=actor, changes={"invitation": ["pending", "revoked"]})
    return revoked
