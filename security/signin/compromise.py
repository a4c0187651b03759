"""Securing an account after a compromise: the primitive "This wasn't me", offboarding and a
password reset call.

``account_secure_after_compromise`` does, in one transaction:
- ends every session of the person, each with its sign-out row (reason ``account_secured``);
- revokes every device cookie of the person, so no browser passes the account's ceiling on the
  strength of an earlier sign-in;
- sets ``User.must_change_password``: the next sign-in, whatever the password policy says, must
  choose a new password (the forced-change path of the pipeline and ``SessionPolicyMiddleware``),
  and the new one must differ from the old; the person's own password change clears it;
- requires the second factor at that sign-in: a person with an authenticator is challenged anyway;
  a person without one must enrol one before the sign-in completes (the pipeline's enrolment
  challenge), whatever the tenant's MFA policy;
- writes one audit entry naming who secured the account and why.

What it cannot do: if the person has no authenticator and the attacker knows the password, the
attacker may be the one who signs in next and chooses the new password and authenticator. Only a
reset link sent to the person (a later issue) or an administrator closes that race; suspending
the person until then is the administrator's choice.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.mailclients.services import mail_client_passwords_revoke_all
from accounts.models import User
from activity.models import Reason
from activity.services import audit_entry_record
from security.sessions.services import user_sessions_end_all
from security.signin.device_cookies import device_cookies_revoke
from tenants.roles import Cap, can_manage, role_has

REASON_MAX_LENGTH = 200


def _check_actor(*, user: User, actor: User | None) -> None:
    """The person themselves, or no one (a signed link the caller verified, a system sweep), or
    someone of their company who may suspend people of this role."""
    if actor is None or actor.pk == user.pk:
        return
    if actor.tenant_id != user.tenant_id or not role_has(actor.role, Cap.PEOPLE_SUSPEND) \
            or not can_manage(actor.role, user.role):
        raise ValidationError(_("You are not allowed to secure this person's account."),
                              code="capability")


def account_secure_after_compromise(*, user: User, actor: User | None = None, reason: str) -> None:
    """End every session, device cookie and mail-client password of ``user`` and require a new password (and the second
    factor) at the next sign-in; audited. ``reason`` says why, in the audit entry (e.g.
    ``"this_wasnt_me"``, ``"offboarding"``). Safe to call twice."""
    if user.tenant_id is None:
        raise ValidationError(_("Operators' accounts are not managed here."), code="operator")
    why = " ".join(str(reason or "").split())[:REASON_MAX_LENGTH]
    if not why:
        raise ValidationError(_("Say why the account is being secured."), code="reason")
    _check_actor(user=user, actor=actor)
    with transaction.atomic():
        was_flagged = (User.objects.filter(pk=user.pk).values_list("must_change_password", flat=True)
                       .select_for_update().first())
        # A queryset update: the explicit entry below says it all, without auditlog's second one.
        User.objects.filter(pk=user.pk).update(must_change_password=True)
        user.must_change_password = True
        sessions = user_sessions_end_all(user=user, reason=Reason.ACCOUNT_SECURED)
        devices = device_cookies_revoke(user=user)
        # The mail clients' own passwords too: an attacker who knew the password may have made one.
        mail_passwords = mail_client_passwords_revoke_all(user=user, actor=None)  # checked above
        audit_entry_record(obj=user, actor=actor, changes={
            "account": ["", "secured after a compromise"],
            "reason": ["", why],
            "must_change_password": [str(bool(was_flagged)), "True"],
            "sessions_ended": ["", str(sessions)],
            "device_cookies_revoked": ["", str(devices)],
            "mail_client_passwords_revoked": ["", str(mail_passwords)],
        })
