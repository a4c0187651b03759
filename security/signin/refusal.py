"""The one refusal page: the same status, text and form for every refusal before the password.

Its own module so that both the sign-in views and django-axes' lockout callable
(``security.signin.lockout.lockout_response``) render it without importing the pipeline.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from security.signin.forms import SignInForm

GENERIC_FAILURE = _("The e-mail address or password is incorrect, or this account cannot sign in.")


def safe_next(request: HttpRequest) -> str | None:
    """The ``next`` target of this request, if it stays on this site."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def render_signin_failure(request: HttpRequest, message: str | None = None) -> HttpResponse:
    """The sign-in page again, with ``message`` (by default the generic one)."""
    form = SignInForm(request.POST or None)
    form.is_valid()
    return render(request, "security/signin.html",
                  {"form": form, "error": message or GENERIC_FAILURE, "next": safe_next(request),
                   "public_page": True})
