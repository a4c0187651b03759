"""The sign-in hours page.

A save that would sign the acting admin out is re-rendered with a warning and an explicit "save
anyway" checkbox (the service refuses it otherwise).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from accounts.requests import ConsoleRequest
from security.policies.hours.forms import DAY_FIELDS, HoursPolicyForm, ranges_text
from security.policies.hours.rules import HoursRules, window_open
from security.policies.hours.selectors import hours_policy_get, hours_policy_intervals
from security.policies.hours.services import hours_policy_update
from security.policies.pages import can_manage, is_self_lockout
from tenants.access import requires
from tenants.roles import Cap


@requires(Cap.POLICY_VIEW)
def hours_policy_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    manage = can_manage(request)
    policy = hours_policy_get(tenant=tenant)
    intervals = hours_policy_intervals(policy)
    now = timezone.now()
    saved = HoursRules.build(mode=policy.mode, scope=policy.scope, channels=policy.channels,
                             timezone_name=tenant.timezone, intervals=intervals)
    form = None
    needs_confirmation = False
    if manage:
        form = HoursPolicyForm(request.POST or None, initial={
            **HoursPolicyForm.initial_days(intervals), "mode": policy.mode, "scope": policy.scope,
            "channels": policy.channels})
        if request.method == "POST" and form.is_valid():
            try:
                hours_policy_update(
                    tenant=tenant, actor=request.user, schedule=form.cleaned_data["schedule"],
                    mode=form.cleaned_data["mode"], scope=form.cleaned_data["scope"],
                    channels=form.cleaned_data["channels"], confirm_self_lockout=form.cleaned_data["confirm_self_lockout"], now=now,
                )
            except ValidationError as exc:
                needs_confirmation = is_self_lockout(exc)
                form.add_error(None, exc)
            else:
                messages.success(request, _("The sign-in hours are saved."))
                return redirect("policy_hours")
    days = [(WEEKDAYS[day], ranges_text(intervals, day)) for day in range(7)]
    return render(request, "security/policies/hours.html", {
        "policy": policy, "form": form, "can_manage": manage, "days": days,
        "day_fields": [form[name] for name in DAY_FIELDS] if form is not None else [],
        "timezone_name": tenant.timezone, "local_now": now.astimezone(saved.tz),
        "open_now": window_open(now, saved),
        "needs_confirmation": needs_confirmation,
    })
