"""Access-policy pages: the network allowlist and sign-in hours.

Owners and admins (``POLICY_MANAGE``) edit; auditors (``POLICY_VIEW``) read the same page
without a form. A save that would lock the acting admin out is re-rendered with a warning and
an explicit "save anyway" checkbox (the service refuses it otherwise).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from activity.clientip import client_ip
from security.forms_access import DAY_FIELDS, HoursPolicyForm, NetworkPolicyForm, ranges_text
from security.policies import hours, network
from security.policies.base import Mode
from tenants.access import requires
from tenants.roles import Cap


def _is_self_lockout(exc: ValidationError) -> bool:
    return any(getattr(error, "code", None) == "self_lockout" for error in exc.error_list)


def _can_manage(request: HttpRequest) -> bool:
    can_manage = request.user.can(Cap.POLICY_MANAGE)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    return can_manage


@requires(Cap.POLICY_VIEW)
def network_policy_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    can_manage = _can_manage(request)
    policy = network.network_policy_get(tenant=tenant)
    rows = network.network_entries_list(tenant=tenant, policy=policy)
    ip = client_ip(request)
    saved = network.NetworkRules.build(mode=policy.mode, scope=policy.scope,
                                       networks=network.networks_from(row.cidr for row in rows))
    form = None
    needs_confirmation = False
    if can_manage:
        form = NetworkPolicyForm(request.POST or None, initial={
            "entries": NetworkPolicyForm.entries_text(rows), "mode": policy.mode, "scope": policy.scope})
        if request.method == "POST" and form.is_valid():
            try:
                network.network_policy_update(
                    tenant=tenant, actor=request.user, entries=form.cleaned_data["entries"],
                    mode=form.cleaned_data["mode"], scope=form.cleaned_data["scope"],
                    confirm_self_lockout=form.cleaned_data["confirm_self_lockout"], actor_ip=ip,
                )
            except ValidationError as exc:
                needs_confirmation = _is_self_lockout(exc)
                form.add_error(None, exc)
            else:
                messages.success(request, _("The network allowlist is saved."))
                return redirect("policy_network")
    return render(request, "security/policies/network.html", {
        "policy": policy, "entries": rows, "form": form, "can_manage": can_manage,
        "current_ip": ip, "inside": network.ip_allowed(ip, saved),
        "applies_to_me": policy.mode != Mode.OFF and saved.applies_to(request.user.role),
        "needs_confirmation": needs_confirmation,
    })


@requires(Cap.POLICY_VIEW)
def hours_policy_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    can_manage = _can_manage(request)
    policy = hours.hours_policy_get(tenant=tenant)
    intervals = hours.hours_policy_intervals(policy)
    now = timezone.now()
    saved = hours.HoursRules.build(mode=policy.mode, scope=policy.scope, timezone_name=tenant.timezone,
                                   intervals=intervals)
    form = None
    needs_confirmation = False
    if can_manage:
        form = HoursPolicyForm(request.POST or None, initial={
            **HoursPolicyForm.initial_days(intervals), "mode": policy.mode, "scope": policy.scope})
        if request.method == "POST" and form.is_valid():
            try:
                hours.hours_policy_update(
                    tenant=tenant, actor=request.user, schedule=form.cleaned_data["schedule"],
                    mode=form.cleaned_data["mode"], scope=form.cleaned_data["scope"],
                    confirm_self_lockout=form.cleaned_data["confirm_self_lockout"], now=now,
                )
            except ValidationError as exc:
                needs_confirmation = _is_self_lockout(exc)
                form.add_error(None, exc)
            else:
                messages.success(request, _("The sign-in hours are saved."))
                return redirect("policy_hours")
    days = [(WEEKDAYS[day], ranges_text(intervals, day)) for day in range(7)]
    return render(request, "security/policies/hours.html", {
        "policy": policy, "form": form, "can_manage": can_manage, "days": days,
        "day_fields": [form[name] for name in DAY_FIELDS] if form is not None else [],
        "timezone_name": tenant.timezone, "local_now": now.astimezone(saved.tz),
        "open_now": hours.window_open(now, saved),
        "needs_confirmation": needs_confirmation,
    })
