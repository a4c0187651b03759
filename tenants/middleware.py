"""Resolve ``request.tenant`` once per request; end sessions that may no longer exist."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _


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
            if user.tenant is not None:
                language = user.language or user.tenant.language
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
                timezone.activate(user.effective_timezone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
