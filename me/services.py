"""Self-service: what a person does to their own account, each change recorded in the audit trail."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.models import User
from activity.capture import ClientInfo
from activity.models import Outcome, Reason
from activity.services import audit_entry_record, login_event_record
from security.policies.password.services import password_record_change
from security.policies.password.validators import password_validators_for
from security.sessions.selectors import user_session_get
from security.sessions.services import (
    user_session_end,
    user_session_rekey,
    user_sessions_end_all,
)
from security.signin.pending import PASSWORD_CHANGE_SESSION_KEY


def password_change(*, request: HttpRequest, user: User, old_password: str, new_password: str) -> User:
    """A person changes their own password; their other sessions end, this one stays."""
    if not user.check_password(old_password):
        raise ValidationError(_("Your current password is incorrect."), code="password_incorrect")
    validate_password(new_password, user, password_validators=password_validators_for(user))
    if user.must_change_password and new_password == old_password:
        raise ValidationError(_("Your account was secured after a compromise: choose a password "
                                "different from the one you had."), code="password_reused")
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False  # a new password ends the compromise's forced change
        user.save(update_fields=["password", "must_change_password"])
        password_record_change(user=user, new_hash=user.password)
        audit_entry_record(obj=user, actor=user, changes={"password": ["", "changed"]})
    old_key = request.session.session_key
    update_session_auth_hash(request, user)  # rotates this session's key
    user_session_rekey(old_key=old_key, new_key=request.session.session_key)
    # Whoever else holds a session of this person is signed out now, not at their next click.
    user_sessions_end_all(user=user, except_key=request.session.session_key)
    request.session.pop(PASSWORD_CHANGE_SESSION_KEY, None)
    return user


def my_session_end(*, user: User, session_id: int, current_key: str | None) -> None:
    """A person ends one of their own sessions (a lost laptop), never the one they are using.

    The ended session's sign-out goes on the record (``signed_out``, linked to the session's
    other events by its reference) and the change into the audit trail.
    """
    row = user_session_get(user=user, session_id=session_id)
    if row is None:
        raise ValidationError(_("That session does not exist any more."), code="unknown")
    if row.session_key == current_key:
        raise ValidationError(_("Use Sign out to end the session you are using."), code="current")
    tenant = user.tenant
    with transaction.atomic():
        if user_session_end(user=user, session_id=session_id) and tenant is not None:
            # The row is about the ended session, not the browser that ended it: no client.
            login_event_record(tenant=tenant, user=user, attempted_login=user.email,
                               client=ClientInfo.unknown(), outcome=Outcome.SIGNOUT,
                               reason=Reason.SIGNED_OUT, session_key=row.session_key)
            described = " · ".join(p for p in (row.browser, row.os, row.ip) if p)
            audit_entry_record(obj=user, actor=user, changes={"session": [described, "ended"]})


def my_sessions_end_others(*, user: User, current_key: str | None) -> int:
    """A person signs out everywhere but here; returns how many sessions ended.

    Each ended session's sign-out is recorded (``signed_out``); one audit entry says how many.
    """
    if not current_key:
        raise ValidationError(_("Your own session could not be told apart; sign in again."),
                              code="no_session")
    with transaction.atomic():
        ended = user_sessions_end_all(user=user, except_key=current_key, reason=Reason.SIGNED_OUT)
        if ended:
            audit_entry_record(obj=user, actor=user,
                               changes={"sessions": [f"{ended} other", "ended"]})
    return ended
