"""Self-service pages under /me/: profile, password, sessions (MFA devices are in ``me.mfa``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.requests import ConsoleRequest
from accounts.services import profile_update
from alerts.selectors import digest_opted_out
from me import services
from me.forms import PasswordChangeForm, ProfileForm
from me.security.selectors import account_glance_get
from security.policies.password.validators import password_validators_for
from security.sessions.selectors import user_sessions_list
from tenants.access import PUBLIC, requires
from tenants.roles import Cap


@requires(PUBLIC)
def home_view(request: HttpRequest) -> HttpResponse:
    """Where a person lands: the console for console roles, their profile otherwise."""
    if not request.user.is_authenticated:
        return redirect("signin")
    if getattr(request, "tenant", None) is None:  # a platform operator
        return redirect("admin:index")
    if request.user.can(Cap.DASHBOARD_VIEW):
        return redirect("dashboard")
    return redirect("profile")


@requires(Cap.SELF_SERVICE)
def profile_view(request: ConsoleRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            profile_update(user=request.user, display_name=form.cleaned_data["display_name"],
                           language=form.cleaned_data["language"],
                           timezone_name=form.cleaned_data["timezone"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("profile")
    context: dict[str, object] = {"form": form, "glance": account_glance_get(user=request.user),
                                  "display_tz": request.user.effective_timezone}
    if request.user.can(Cap.ALERTS_TRIAGE):  # security admins: the alerts digest preference
        context["alerts_digest_on"] = not digest_opted_out(user=request.user)
    return render(request, "me/profile.html", context)


@requires(Cap.SELF_SERVICE)
def password_change_view(request: ConsoleRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(request=request, user=request.user,
                                     old_password=form.cleaned_data["old_password"],
                                     new_password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            # validate_password raises one error holding a list (no single code).
            wrong_old = getattr(exc, "code", None) == "password_incorrect"
            form.add_error("old_password" if wrong_old else "new_password1", exc)
        else:
            messages.success(request, _("Your password has been changed."))
            return redirect("profile")
    help_texts = password_validators_help_texts(password_validators_for(request.user))
    return render(request, "me/password_change.html", {"form": form, "help_texts": help_texts})


@requires(Cap.SELF_SERVICE)
def my_sessions_view(request: ConsoleRequest) -> HttpResponse:
    current = request.session.session_key
    if request.method == "POST":
        try:
            session_id = int(request.POST.get("session", ""))
        except ValueError:
            session_id = 0
        try:
            services.my_session_end(user=request.user, session_id=session_id, current_key=current)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The session was ended. That device must sign in again."))
        return redirect("my_sessions")
    sessions = user_sessions_list(user=request.user)
    return render(request, "me/sessions.html", {"sessions": sessions, "current": current})
