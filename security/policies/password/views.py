"""The password policy page and the password compliance page."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.requests import ConsoleRequest
from security.policies.pages import policy_page
from security.policies.password.forms import PasswordPolicyForm
from security.policies.password.rules import PROFILE_SETTINGS, PasswordProfile, PasswordRules
from security.policies.password.selectors import (
    EXPIRING_WINDOW_DAYS,
    password_expiring_list,
    password_noncompliant_list,
    password_policy_get,
    password_rules_for,
)
from security.policies.password.services import password_policy_update
from security.policies.password.validators import PolicyPasswordValidator
from tenants.access import requires
from tenants.roles import Cap


@requires(Cap.POLICY_VIEW)
def password_policy_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    policy = password_policy_get(tenant=tenant)
    initial = {name: getattr(policy, name) for name in (
        "profile", "on_noncompliant", "min_length", "max_length", "require_upper", "require_lower",
        "require_digit", "require_symbol", "history_count", "expiry_days")}
    profiles = [
        (label, PolicyPasswordValidator(PasswordRules(**PROFILE_SETTINGS[value])).get_help_text())
        for value, label in PasswordProfile.choices if value in PROFILE_SETTINGS
    ]

    def save(data: dict[str, Any]) -> object:
        return password_policy_update(tenant=tenant, actor=request.user, **data)

    return policy_page(
        request, form_class=PasswordPolicyForm, initial=initial, save=save,
        template="security/policies/password.html", success=_("The password policy is saved."),
        url_name="policy_password", context={
            "policy": policy, "profiles": profiles,
            "help_text": PolicyPasswordValidator(password_rules_for(tenant=tenant)).get_help_text(),
        })


@require_safe
@requires(Cap.POLICY_VIEW)
def password_compliance_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    now = timezone.now()
    return render(request, "security/policies/password_compliance.html", {
        "policy": password_policy_get(tenant=tenant),
        "noncompliant": password_noncompliant_list(tenant=tenant),
        "expiring": password_expiring_list(tenant=tenant, now=now),
        "now": now, "window_days": EXPIRING_WINDOW_DAYS,
    })
