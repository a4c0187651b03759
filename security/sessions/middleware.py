"""Per-request session rules: the session index, idle and absolute limits, sign-in hours,
and a forced password change.

Design: runs after ``tenants.middleware`` on every signed-in console request, so it must stay
cheap: one indexed query for the session row, policy rules from the per-process cache keyed
by the tenant's policy version (``security.policies.cache``; no Redis on the request path),
pure checks, and a ``last_seen_at`` write at most once a minute.
A session the index does not know (ended by suspension, by an admin, or never indexed) is over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from activity.models import Reason
from security.policies.base import Channel, Mode
from security.policies.cache import tenant_rules
from security.policies.hours.rules import window_open
from security.policies.hours.selectors import hours_rules_for
from security.policies.sessions.rules import session_state
from security.policies.sessions.selectors import session_rules_for
from security.sessions.models import UserSession
from security.signin.pending import PASSWORD_CHANGE_SESSION_KEY
from security.signin.pipeline import signout

LAST_SEEN_RESOLUTION = timedelta(seconds=60)
# Reachable while a password change is forced.
PASSWORD_CHANGE_ALLOWED = {"password_change", "signout", "healthz", "readyz"}


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is None or not request.user.is_authenticated:
            return self.get_response(request)
        ended = self._check(request, tenant)
        if ended is not None:
            return ended
        forced = request.session.get(PASSWORD_CHANGE_SESSION_KEY)
        if forced:
            try:
                name = resolve(request.path_info).url_name
            except Resolver404:
                name = None
            if name not in PASSWORD_CHANGE_ALLOWED and not request.path_info.startswith("/static/"):
                if forced == "secured":
                    messages.warning(request, _("Your account was secured after a report that "
                                                "someone else used it. Choose a new password to continue."))
                else:
                    messages.warning(request, _("Your password no longer meets your company's policy. "
                                                "Choose a new one to continue."))
                return redirect("password_change")
        return self.get_response(request)

    def _check(self, request: HttpRequest, tenant: Any) -> HttpResponse | None:
        user = cast(User, request.user)  # authenticated: __call__ checked
        row = (
            UserSession.objects.filter(tenant=tenant, session_key=request.session.session_key)
            .only("pk", "started_at", "last_seen_at").first()
        )
        if row is None:
            return self._end(request, Reason.ENDED_BY_ADMIN,
                             _("Your session has ended. Please sign in again."))
        now = timezone.now()
        rules = tenant_rules("sessions", tenant, lambda: session_rules_for(tenant=tenant))
        decision = session_state(row.started_at, row.last_seen_at, now, rules)
        if not decision.allowed:
            text = (_("You were signed out after a period of inactivity.")
                    if decision.reason == Reason.SESSION_IDLE_TIMEOUT
                    else _("Your session reached its maximum length. Please sign in again."))
            return self._end(request, decision.reason, text)
        hours_rules = tenant_rules("hours", tenant, lambda: hours_rules_for(tenant=tenant))
        if hours_rules.applies_to(user.role, Channel.WEB) and hours_rules.mode == Mode.ENFORCE \
                and not window_open(now, hours_rules):
            return self._end(request, Reason.HOURS_WINDOW_CLOSED,
                             _("Your company's sign-in hours have ended. You have been signed out."))
        if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
            UserSession.objects.filter(pk=row.pk).update(last_seen_at=now)
        return None

    @staticmethod
    def _end(request: HttpRequest, reason: str, text: str) -> HttpResponse:
        signout(request=request, reason=reason)
        messages.info(request, text)
        return redirect("signin")
