"""Resolve ``request.tenant`` once per request; end sessions that may no longer exist.

The language: signed out, Django's ``LocaleMiddleware`` (before this one) has chosen it from the
switcher's cookie, then ``Accept-Language``. Signed in, the person's own language wins, then their
tenant's default for its people; the browser's say only counts for a person who has neither (an
operator without a tenant). A language that is no longer offered falls back to the closest one
that is.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _


def _supported(code: str) -> str:
    """The offered language closest to ``code`` ("zh-cn" → "zh-hans"), or "" when there is none."""
    if not code:
        return ""
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return ""


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated:
            if not user.is_active:
                # Suspended or offboarded person, or suspended tenant: the session ends now.
                logout(request)
                messages.error(request, _("Your session has ended. Contact your administrator."))
                return redirect("signin")
            request.tenant = user.tenant  # type: ignore[attr-defined]
            language = _supported(user.language or (user.tenant.language if user.tenant else ""))
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
            if user.tenant is not None:
                timezone.activate(user.effective_timezone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
