from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from security.forms import SignInForm
from security.signin import GENERIC_FAILURE, signin_attempt, signout
from tenants.access import PUBLIC, requires


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def render_signin_failure(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    form.is_valid()
    return render(request, "security/signin.html",
                  {"form": form, "error": GENERIC_FAILURE, "next": _safe_next(request)}, status=200)


@requires(PUBLIC)
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signin_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("home")
    form = SignInForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render_signin_failure(request)
        result = signin_attempt(request=request, email=form.cleaned_data["email"],
                                password=form.cleaned_data["password"])
        if result.user is None:
            return render_signin_failure(request)
        return redirect(_safe_next(request) or "home")
    return render(request, "security/signin.html", {"form": form, "next": _safe_next(request)})


@requires(PUBLIC)
@require_POST
def signout_view(request: HttpRequest) -> HttpResponse:
    signout(request=request)
    messages.info(request, _("You have signed out."))
    return redirect("signin")
