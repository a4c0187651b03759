"""Reads of the session index; none of them writes."""

from __future__ import annotations

from accounts.models import User
from security.sessions.models import UserSession


def user_sessions_list(*, user: User) -> list[UserSession]:
    """The person's open sessions, most recently active first."""
    if user.tenant_id is None:
        return []  # operators' sessions are not indexed
    return list(UserSession.objects.filter(tenant_id=user.tenant_id, user=user).order_by("-last_seen_at"))


def user_session_get(*, user: User, session_id: int) -> UserSession | None:
    """One of the person's own open sessions, or None (another person's id is None too)."""
    if user.tenant_id is None:
        return None
    return UserSession.objects.filter(tenant_id=user.tenant_id, user=user, pk=session_id).first()
