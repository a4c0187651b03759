"""``recent_auth_required``: a view that changes something sensitive asks the signed-in person
to confirm it is them (password or code, ``mfa_recent_auth_confirm``) within the last five
minutes. Lives here, below ``people`` and ``me``, so both use one rule and one confirmation page
(``mfa_confirm`` under /me/mfa/)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, overload
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.mfa.services import mfa_recent_auth_ok

View = Callable[..., HttpResponse]


def confirm_redirect(request: HttpRequest, *, after_post: str | None = None) -> HttpResponse:
    """To the confirmation page, coming back to this page afterwards.

    A POST cannot be replayed through a redirect: it comes back to ``after_post`` (a URL name),
    or else to the same path as a GET, which for an action shows its confirmation page.
    """
    if request.method == "GET" or after_post is None:
        target = request.get_full_path() if request.method == "GET" else request.path
    else:
        target = reverse(after_post)
    return redirect(f"{reverse('mfa_confirm')}?{urlencode({'next': target})}")


@overload
def recent_auth_required(view: View, *, after_post: str | None = None) -> View: ...
@overload
def recent_auth_required(view: None = None, *, after_post: str | None = None) -> Callable[[View], View]: ...


def recent_auth_required(view: View | None = None, *,
                         after_post: str | None = None) -> View | Callable[[View], View]:
    """``@recent_auth_required`` or ``@recent_auth_required(after_post="mfa_manage")``."""

    def decorate(inner: View) -> View:
        @wraps(inner)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not mfa_recent_auth_ok(request):
                if request.method == "POST":
                    messages.info(request, _("Confirm it is you, then try again."))
                return confirm_redirect(request, after_post=after_post)
            return inner(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate
