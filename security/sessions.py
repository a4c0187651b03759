"""Sessions: recorded at sign-in, ended all at once when a person may no longer be signed in."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from activity.clientip import client_ip
from security.models import UserSession

MAX_USER_AGENT = 512


def user_session_record(*, request: HttpRequest, user: User) -> UserSession | None:
    """Index the request's (freshly rotated) session under its person."""
    if user.tenant_id is None or not request.session.session_key:
        return None
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT]
    session, _created = UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={"tenant_id": user.tenant_id, "user": user, "ip": client_ip(request),
                  "user_agent": "".join(c if c.isprintable() else "\ufffd" for c in user_agent)},
    )
    return session


def user_session_forget(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def user_sessions_end_all(*, user: User) -> int:
    """End every session of this person (suspension, offboarding); returns how many."""
    with transaction.atomic():
        keys = list(
            UserSession.objects.filter(tenant_id=user.tenant_id, user=user)
            .values_list("session_key", flat=True)
        )
        Session.objects.filter(session_key__in=keys).delete()
        UserSession.objects.filter(tenant_id=user.tenant_id, user=user).delete()
    return len(keys)
