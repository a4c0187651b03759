"""The policy endpoint's own path through the WSGI application: Django, without the console's
middleware stack.

Dovecot calls ``/mailauth/policy`` before every mail sign-in, so whatever runs for it is on the
mail client's critical path. The console's stack (sessions, locale, CSRF, authentication,
messages, the tenant, session policy, audit context, axes…) exists for browsers and people; a
mail server's call has no cookie, no session and no person, and none of it changes the answer.
``policy_dispatch`` wraps the console's WSGI application: a request for exactly that path goes
to a ``WSGIHandler`` whose middleware is the short list the caller gives (mailadmin.wsgi gives
the request-id middleware, so log lines still carry an id) — the same view, found once by the
same URLconf (the handler serves one path, so it keeps that match instead of resolving each
request through the console's patterns), the same checks (the view authenticates the caller by network and secret itself), Django's own
request signals (database connections are kept and recycled exactly as for any request) and its
error handling (an exception is a logged 500, as anywhere). Every other path goes to the
console's application unchanged.

Measured (bench mailauth): the console's stack costs the endpoint about 1 ms of CPU per request
on the 2-core benchmark machine, twice per sign-in.

One departure: Django's connection health check (``CONN_HEALTH_CHECKS``: a ``SELECT 1`` round
trip before each request's first query) is skipped for a connection this path used less than
``HEALTH_CHECK_IDLE_SECONDS`` ago. At hundreds of calls a second every connection is that fresh,
and the check was a tenth of a millisecond on each mail client's sign-in; a connection idle for
longer is checked as Django checks it. Should the database restart under load, the call that
meets the dead connection fails (answered as ``MAILADMIN_MAIL_POLICY_FAIL_OPEN`` says) and Django
replaces the connection at the next request (``errors_occurred``), as it would without the check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.http import HttpRequest
from django.urls import ResolverMatch, get_resolver, reverse
from django.utils.module_loading import import_string

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

HEALTH_CHECK_IDLE_SECONDS = 10.0
_USED_AT = "_mailauth_policy_used_at"


def recent_connections_trust(now: float | None = None) -> None:
    """Mark this thread's connections used by the policy path within the idle time as checked."""
    now = time.monotonic() if now is None else now
    for conn in connections.all(initialized_only=True):
        used_at = getattr(conn, _USED_AT, None)
        # health_check_done: Django's flag (BaseDatabaseWrapper, not in the stubs) that the
        # request's first cursor reads to skip the SELECT 1.
        if (conn.connection is not None and not getattr(conn, "health_check_done", True)
                and used_at is not None and now - used_at < HEALTH_CHECK_IDLE_SECONDS):
            setattr(conn, "health_check_done", True)  # noqa: B010


def connections_used(now: float | None = None) -> None:
    now = time.monotonic() if now is None else now
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            setattr(conn, _USED_AT, now)


class PolicyHandler(WSGIHandler):
    """Django's WSGI handler with its own, short middleware list instead of ``MIDDLEWARE``."""

    def __init__(self, middleware: Sequence[str] = (), *, path: str) -> None:
        self._lean_middleware = tuple(middleware)
        self._match = get_resolver().resolve(path)
        super().__init__()

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        # policy_dispatch sends this handler exactly one path: its match, resolved once.
        request.resolver_match = self._match
        return self._match

    def get_response(self, request: HttpRequest) -> Any:
        recent_connections_trust()  # after request_started's close_old_connections
        try:
            return super().get_response(request)
        finally:
            connections_used()

    def load_middleware(self, is_async: bool = False) -> None:
        if is_async:
            raise NotImplementedError("the policy endpoint is served over WSGI")
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(self._lean_middleware):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler


def policy_dispatch(console: WSGIApp, *, middleware: Sequence[str] = ()) -> WSGIApp:
    """``console`` for every request but the policy endpoint's, which takes the lean handler."""
    path = reverse("mail_policy")
    lean = PolicyHandler(middleware, path=path)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == path:
            return lean(environ, start_response)
        return console(environ, start_response)

    return application
