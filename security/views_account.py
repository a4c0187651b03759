"""Account-policy pages: password, MFA, lockout and sessions; password compliance; locked accounts.

Owners and admins (``POLICY_MANAGE``) edit; auditors (``POLICY_VIEW``) read the same page without
a form, and a POST from them is a 403. Unlocking needs ``PEOPLE_UNLOCK`` (helpdesk, admin, owner).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from security.forms_account import (
    LockoutPolicyForm,
    MfaPolicyForm,
    PasswordPolicyForm,
    SessionPolicyForm,
)
from security.policies import getters
from security.policies.password import (
    PROFILE_SETTINGS,
    PasswordProfile,
    PasswordRules,
    PolicyPasswordValidator,
)
from tenants.access import requires
from tenants.roles import Cap


def _can_manage(request: HttpRequest) -> bool:
    can_manage = request.user.can(Cap.POLICY_MANAGE)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    return can_manage


def _policy_page(
    request: HttpRequest, *, form_class: type[Form], initial: dict[str, Any],
    save: Callable[[dict[str, Any]], object], template: str, success: str, url_name: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The shared shape: read-only facts for everyone, a form for managers, errors re-rendered."""
    form = None
    if _can_manage(request):
        form = form_class(request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                save(form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, success)
                return redirect(url_name)
    return render(request, template, {**context, "form": form, "can_manage": form is not None})


@requires(Cap.POLICY_VIEW)
def password_policy_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    policy = getters.password_policy_get(tenant=tenant)
    initial = {name: getattr(policy, name) for name in (
        "profile", "on_noncompliant", "min_length", "max_length", "require_upper", "require_lower",
        "require_digit", "require_symbol", "history_count", "expiry_days")}
    profiles = [
        (label, PolicyPasswordValidator(PasswordRules(**PROFILE_SETTINGS[value])).get_help_text())
        for value, label in PasswordProfile.choices if value in PROFILE_SETTINGS
    ]

    def save(data: dict[str, Any]) -> object:
        return getters.password_policy_update(tenant=tenant, actor=request.user, **data)

    return _policy_page(
        request, form_class=PasswordPolicyForm, initial=initial, save=save,
        template="security/policies/password.html", success=_("The password policy is saved."),
        url_name="policy_password", context={
            "policy": policy, "profiles": profiles,
            "help_text": PolicyPasswordValidator(getters.password_rules_for(tenant=tenant)).get_help_text(),
        })


@requires(Cap.POLICY_VIEW)
def mfa_policy_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    policy = getters.mfa_policy_get(tenant=tenant)
    rules = getters.mfa_rules_for(tenant=tenant)

    def save(data: dict[str, Any]) -> object:
        return getters.mfa_policy_update(tenant=tenant, actor=request.user, **data)

    return _policy_page(
        request, form_class=MfaPolicyForm, save=save, template="security/policies/mfa.html",
        initial={"requirement": policy.requirement, "grace_days": policy.grace_days},
        success=_("The two-factor policy is saved."), url_name="policy_mfa",
        context={"policy": policy, "grace_ends_at": rules.grace_ends_at, "now": timezone.now()})


@requires(Cap.POLICY_VIEW)
def lockout_policy_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    policy = getters.lockout_policy_get(tenant=tenant)

    def save(data: dict[str, Any]) -> object:
        return getters.lockout_policy_update(tenant=tenant, actor=request.user, **data)

    return _policy_page(
        request, form_class=LockoutPolicyForm, save=save, template="security/policies/lockout.html",
        initial={"failure_limit": policy.failure_limit, "cooloff_minutes": policy.cooloff_minutes},
        success=_("The lockout policy is saved."), url_name="policy_lockout",
        context={"policy": policy, "can_unlock": request.user.can(Cap.PEOPLE_UNLOCK)})


@requires(Cap.POLICY_VIEW)
def session_policy_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    policy = getters.session_policy_get(tenant=tenant)

    def save(data: dict[str, Any]) -> object:
        return getters.session_policy_update(tenant=tenant, actor=request.user, **data)

    return _policy_page(
        request, form_class=SessionPolicyForm, save=save, template="security/policies/sessions.html",
        initial={"idle_timeout_minutes": policy.idle_timeout_minutes,
                 "absolute_lifetime_hours": policy.absolute_lifetime_hours},
        success=_("The session policy is saved."), url_name="policy_sessions",
        context={"policy": policy})


@require_safe
@requires(Cap.POLICY_VIEW)
def password_compliance_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    now = timezone.now()
    return render(request, "security/policies/password_compliance.html", {
        "policy": getters.password_policy_get(tenant=tenant),
        "noncompliant": getters.password_noncompliant_list(tenant=tenant),
        "expiring": getters.password_expiring_list(tenant=tenant, now=now),
        "now": now, "window_days": getters.EXPIRING_WINDOW_DAYS,
    })
