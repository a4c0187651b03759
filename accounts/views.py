from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import services
from accounts.forms import ProfileForm
from security.passwords import password_validators_for
from security.sessions import user_session_end, user_sessions_list
from tenants.access import PUBLIC, requires
from tenants.roles import Cap


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=gettext_lazy("Current password"), strip=False, max_length=4096,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password1 = forms.CharField(label=gettext_lazy("New password"), strip=False, max_length=4096,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label=gettext_lazy("Repeat the new password"), strip=False,
                                    max_length=4096,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", gettext_lazy("The two passwords differ."))
        return data


@requires(PUBLIC)
def home_view(request: HttpRequest) -> HttpResponse:
    """Where a person lands: the console for console roles, their profile otherwise."""
    if not request.user.is_authenticated:
        return redirect("signin")
    if request.tenant is None:  # a platform operator
        return redirect("admin:index")
    if request.user.can(Cap.DASHBOARD_VIEW):
        return redirect("dashboard")
    return redirect("profile")


@requires(Cap.SELF_SERVICE)
def profile_view(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(user=request.user, display_name=form.cleaned_data["display_name"],
                                    language=form.cleaned_data["language"],
                                    timezone_name=form.cleaned_data["timezone"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})


@requires(Cap.SELF_SERVICE)
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(request=request, user=request.user,
                                     old_password=form.cleaned_data["old_password"],
                                     new_password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            field = "old_password" if exc.code == "password_incorrect" else "new_password1"
            form.add_error(field, exc)
        else:
            messages.success(request, _("Your password has been changed."))
            return redirect("profile")
    help_texts = password_validators_help_texts(password_validators_for(request.user))
    return render(request, "accounts/password_change.html", {"form": form, "help_texts": help_texts})


@requires(Cap.SELF_SERVICE)
def my_sessions_view(request: HttpRequest) -> HttpResponse:
    current = request.session.session_key
    if request.method == "POST":
        try:
            session_id = int(request.POST.get("session", ""))
        except ValueError:
            session_id = 0
        row = next((s for s in user_sessions_list(user=request.user) if s.pk == session_id), None)
        if row is None:
            messages.error(request, _("That session does not exist any more."))
        elif row.session_key == current:
            messages.error(request, _("Use Sign out to end the session you are using."))
        elif user_session_end(user=request.user, session_id=session_id):
            messages.success(request, _("The session was ended. That device must sign in again."))
        return redirect("my_sessions")
    sessions = user_sessions_list(user=request.user)
    return render(request, "accounts/sessions.html", {"sessions": sessions, "current": current})
