"""Services of the person's own account record (no policy here: see security and me)."""

from __future__ import annotations

from contextlib import suppress

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User


def profile_update(*, user: User, display_name: str, language: str, timezone_name: str) -> User:
    """A person edits their own display name, language and time zone."""
    user.display_name = display_name.strip()[:150]
    user.language = language
    user.timezone = timezone_name
    user.full_clean(exclude=["password", "email", "tenant"])
    user.save(update_fields=["display_name", "language", "timezone"])
    return user


def language_keep(*, user: User, language: str) -> None:
    """Save ``language`` as the person's own (the switcher's choice, signed in or at sign-in); an
    account that no longer validates keeps its language."""
    with suppress(ValidationError):
        profile_update(user=user, display_name=user.display_name, language=language,
                       timezone_name=user.timezone)


def last_login_record(sender: object, user: User, **kwargs: object) -> None:
    """``user_logged_in`` receiver: when this person last signed in (shown on the people pages)."""
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login=now)
    user.last_login = now
