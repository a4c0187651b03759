""""My security": the employee's one page for their own account's security.

Password, second factors (managed on the two-step sign-in pages of ``me.mfa``), open sessions,
recent sign-ins with "This wasn't me" (``alerts.report``), language and time zone, and "Download
my data" (``me.data``). The page is a GET; each form on it POSTs to its own small view, which
calls one service and comes back here (a form with errors is shown on the page itself).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from accounts.requests import ConsoleRequest
from accounts.services import profile_update
from me import services
from me.forms import LanguageTimeZoneForm, PasswordChangeForm
from me.security.selectors import mfa_summary_get, recent_signins_list
from security.policies.password.validators import password_validators_for
from security.sessions.selectors import user_sessions_list
from tenants.access import requires
from tenants.roles import Cap

TEMPLATE = "me/security.html"


def _page(request: ConsoleRequest, *, password_form: PasswordChangeForm | None = None,
          preferences_form: LanguageTimeZoneForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {
        "password_form": password_form or PasswordChangeForm(),
        "password_help_texts": password_validators_help_texts(password_validators_for(user)),
        "mfa": mfa_summary_get(user=user),
        "sessions": user_sessions_list(user=user),
        "current": request.session.session_key,
        "signins": recent_signins_list(user=user),
        "preferences_form": preferences_form or LanguageTimeZoneForm(user=user),
        "display_tz": user.effective_timezone,
    }
    context["other_sessions"] = sum(1 for s in context["sessions"] if s.session_key != context["current"])
    return render(request, TEMPLATE, context, status=status)


@requires(Cap.SELF_SERVICE)
@require_safe
def my_security_view(request: ConsoleRequest) -> HttpResponse:
    return _page(request)


@requires(Cap.SELF_SERVICE)
@require_POST
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
def my_security_password_view(request: ConsoleRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            services.password_change(request=request, user=request.user,
                                     old_password=form.cleaned_data["old_password"],
                                     new_password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            wrong_old = getattr(exc, "code", None) == "password_incorrect"
            form.add_error("old_password" if wrong_old else "new_password1", exc)
        else:
            messages.success(request, _("Your password has been changed. Your other sessions "
                                        "have ended."))
            return redirect("my_security")
    return _page(request, password_form=form, status=400)


@requires(Cap.SELF_SERVICE)
@require_POST
def my_security_preferences_view(request: ConsoleRequest) -> HttpResponse:
    user = request.user
    form = LanguageTimeZoneForm(request.POST, user=user)
    if form.is_valid():
        try:
            profile_update(user=user, display_name=user.display_name,
                           language=form.cleaned_data["language"],
                           timezone_name=form.cleaned_data["timezone"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your language and time zone are saved."))
            return redirect("my_security")
    return _page(request, preferences_form=form, status=400)


def _session_id(request: ConsoleRequest) -> int:
    try:
        return int(request.POST.get("session", ""))
    except ValueError:
        return 0


@requires(Cap.SELF_SERVICE)
@require_POST
def my_security_session_end_view(request: ConsoleRequest) -> HttpResponse:
    try:
        services.my_session_end(user=request.user, session_id=_session_id(request),
                                current_key=request.session.session_key)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The session was ended. That device must sign in again."))
    return redirect("my_security")


@requires(Cap.SELF_SERVICE)
@require_POST
def my_security_sessions_end_others_view(request: ConsoleRequest) -> HttpResponse:
    try:
        ended = services.my_sessions_end_others(user=request.user,
                                                current_key=request.session.session_key)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if ended:
            messages.success(request, ngettext(
                "%(count)d other session was ended. Only this browser is still signed in.",
                "%(count)d other sessions were ended. Only this browser is still signed in.",
                ended) % {"count": ended})
        else:
            messages.info(request, _("You were not signed in anywhere else."))
    return redirect("my_security")
