"""Glue between django-axes and the sign-in page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from accounts.models import normalize_email


def username_from_request(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """axes counts failures on the normalised address, so case variants share one bucket."""
    raw = ""
    if credentials:
        raw = credentials.get("email") or credentials.get("username") or ""
    if not raw:
        raw = request.POST.get("email", "") if request.method == "POST" else ""
    return normalize_email(str(raw))


def lockout_response(request: HttpRequest, credentials: dict[str, Any] | None = None,
                     *args: Any, **kwargs: Any) -> HttpResponse:
    """A locked account sees the same page and message as a wrong password."""
    from security.views import render_signin_failure

    return render_signin_failure(request)
