"""Writes of the session index: a row built at sign-in, re-keyed, forgotten, ended one or all at once."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from activity.capture import ClientInfo
from activity.models import Outcome
from activity.services import login_event_build, login_events_record
from security.sessions.models import UserSession


def user_session_build(*, request: HttpRequest, user: User, client: ClientInfo,
                       mfa_method: str = "") -> UserSession | None:
    """The unsaved index row of the request's (freshly rotated) session, or None without one.

    login() has just issued the key, so the row is new: a plain INSERT, which the sign-in sends
    together with its LoginEvent (``activity.services.login_event_record``).
    """
    if user.tenant_id is None or not request.session.session_key:
        return None
    browser = " ".join(p for p in (client.browser_family, client.browser_version) if p)
    os_name = " ".join(p for p in (client.os_family, client.os_version) if p)
    return UserSession(
        session_key=request.session.session_key, tenant_id=user.tenant_id, user=user, ip=client.ip,
        country=client.country, user_agent=client.user_agent, browser=browser[:80],
        os=os_name[:80], device_type=client.device_type, mfa_method=mfa_method,
    )


def user_session_forget(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def user_session_rekey(*, old_key: str | None, new_key: str | None) -> None:
    """Django rotated the key of a live session (e.g. password change): follow it."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def user_sessions_end_all(*, user: User, except_key: str | None = None, reason: str = "") -> int:
    """End every session of this person (suspension, password change elsewhere); returns how many.

    With ``reason`` (a ``Reason`` code), each ended session gets its sign-out row in the record,
    linked to the session's other events by its reference; no request caused it, so the row
    claims no client.
    """
    if user.tenant_id is None:
        return 0  # operators' sessions are not indexed
    with transaction.atomic():
        rows = UserSession.objects.filter(tenant_id=user.tenant_id, user=user)
        if except_key:
            rows = rows.exclude(session_key=except_key)
        keys = list(rows.values_list("session_key", flat=True))
        Session.objects.filter(session_key__in=keys).delete()
        UserSession.objects.filter(session_key__in=keys).delete()
        tenant = user.tenant
        if reason and keys and tenant is not None:
            client = ClientInfo.unknown()
            login_events_record(tenant=tenant, events=[
                login_event_build(tenant=tenant, user=user, attempted_login=user.email,
                                  client=client, outcome=Outcome.SIGNOUT, reason=reason,
                                  session_key=key)
                for key in keys
            ])
    return len(keys)


def user_session_end(*, user: User, session_id: int) -> bool:
    """The person ends one of their own sessions (a lost laptop); False if it is not theirs."""
    if user.tenant_id is None:
        return False
    with transaction.atomic():
        row = UserSession.objects.filter(tenant_id=user.tenant_id, user=user, pk=session_id).first()
        if row is None:
            return False
        Session.objects.filter(session_key=row.session_key).delete()
        row.delete()
    return True
