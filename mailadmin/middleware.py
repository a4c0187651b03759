"""The console shell's own middleware: no-store for signed-in pages, correlation ids.

Responses to signed-in requests are not stored by browsers or proxies (ASVS V8.2.1).

Every console and self-service page shows personal or tenant data; a shared computer's back
button, disk cache or a caching proxy must not keep a copy after sign-out. A view that sets its
own Cache-Control (the sign-in pages, exports, ``never_cache``) keeps it; static files, which
WhiteNoise serves before this runs and which hold nobody's data, are left alone too.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import resolve_url
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


class SignedInNoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + str(settings.STATIC_URL).lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not response.has_header("Cache-Control")
                and not request.path.startswith(self.static_prefix)):
            patch_cache_control(response, no_store=True)
        return response


# --- Partial page updates -----------------------------------------------------------------------
# Filters, pagers and triage actions fetch the next page with htmx and swap its <main> in place.
# The browser's XMLHttpRequest follows redirects by itself, so a session that ended (idle time,
# sign-out elsewhere, "This wasn't me") would otherwise swap the sign-in form into the console's
# layout. An htmx request redirected to the sign-in page gets HX-Redirect instead: htmx loads the
# sign-in page as a whole page, with its ?next= back to where the person was.
#
# HX-Redirect makes the browser navigate (an XHR's cross-site redirect would merely fail), so only
# our own sign-in page, as a relative URL, becomes one, and its ?next= only when it stays on this
# site; the redirect's cookies (the message saying why the session ended, the ended session's
# cookie) go with it.


def _signin_redirect_target(request: HttpRequest, location: str) -> str | None:
    """The HX-Redirect for a redirect to ``location``, or None when it is not our sign-in page."""
    parts = urlsplit(location)
    login_path = resolve_url(settings.LOGIN_URL)
    if parts.scheme or parts.netloc or parts.path != login_path:
        return None
    nexts = parse_qs(parts.query, keep_blank_values=True).get(REDIRECT_FIELD_NAME, [])
    if not nexts:
        return location
    if len(nexts) == 1 and url_has_allowed_host_and_scheme(
            nexts[0], allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return location
    return login_path


class HtmxSignInRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code not in (301, 302, 303, 307, 308):
            return response
        target = _signin_redirect_target(request, response.get("Location", ""))
        if target is None:
            return response
        redirect = HttpResponseClientRedirect(target)
        for name, morsel in response.cookies.items():
            redirect.cookies[name] = morsel
        patch_cache_control(redirect, no_store=True)
        return redirect


# --- Correlation ids ---------------------------------------------------------------------------
# Every request carries one id: taken from a proxy's X-Request-ID when it looks like one (so the
# load balancer's log and ours agree), else a new random one. It is on every log line written
# while the request runs (``RequestIdLogFilter``), in the X-Request-ID response header, and on
# the 500 page, so a person can read it to the helpdesk and an operator finds the traceback.

_REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._-]{8,64}")
_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def request_id_current() -> str:
    """The id of the request this code runs for, or ``-`` outside one (a task, a command)."""
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        offered = request.META.get(_REQUEST_ID_HEADER, "")
        request_id = offered if _REQUEST_ID_SHAPE.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Puts the current request's id on each record as ``request_id`` (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
