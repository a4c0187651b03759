from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from security.passwords import password_validators_for
from security.pending import PASSWORD_CHANGE_SESSION_KEY
from security.policies.getters import password_record_change
from security.sessions import user_session_rekey, user_sessions_end_all


def profile_update(*, user: User, display_name: str, language: str, timezone_name: str) -> User:
    """A person edits their own display name, language and time zone."""
    user.display_name = display_name.strip()[:150]
    user.language = language
    user.timezone = timezone_name
    user.full_clean(exclude=["password", "email", "tenant"])
    user.save(update_fields=["display_name", "language", "timezone"])
    return user


def password_change(*, request: HttpRequest, user: User, old_password: str, new_password: str) -> User:
    """A person changes their own password; their other sessions end, this one stays."""
    if not user.check_password(old_password):
        raise ValidationError(_("Your current password is incorrect."), code="password_incorrect")
    validate_password(new_password, user, password_validators=password_validators_for(user))
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        password_record_change(user=user, new_hash=user.password)
    old_key = request.session.session_key
    update_session_auth_hash(request, user)  # rotates this session's key
    user_session_rekey(old_key=old_key, new_key=request.session.session_key)
    # Whoever else holds a session of this person is signed out now, not at their next click.
    user_sessions_end_all(user=user, except_key=request.session.session_key)
    request.session.pop(PASSWORD_CHANGE_SESSION_KEY, None)
    return user


def last_login_record(sender: object, user: User, **kwargs: object) -> None:
    """``user_logged_in`` receiver: when this person last signed in (shown on the people pages)."""
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login=now)
    user.last_login = now
