"""The network allowlist page.

A save that would lock the acting admin out is re-rendered with a warning and an explicit "save
anyway" checkbox (the service refuses it otherwise).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.requests import ConsoleRequest
from activity.clientip import client_ip
from security.policies.base import Mode
from security.policies.network.forms import NetworkPolicyForm
from security.policies.network.rules import NetworkRules, entries_text, ip_allowed, networks_from
from security.policies.network.selectors import network_entries_list, network_policy_get
from security.policies.network.services import network_policy_update
from security.policies.pages import can_manage, is_self_lockout
from tenants.access import requires
from tenants.roles import Cap


@requires(Cap.POLICY_VIEW)
def network_policy_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    manage = can_manage(request)
    policy = network_policy_get(tenant=tenant)
    rows = network_entries_list(tenant=tenant, policy=policy)
    ip = client_ip(request)
    saved = NetworkRules.build(mode=policy.mode, scope=policy.scope, channels=policy.channels,
                               networks=networks_from(row.cidr for row in rows))
    form = None
    needs_confirmation = False
    if manage:
        form = NetworkPolicyForm(request.POST or None, initial={
            "entries": entries_text(rows), "mode": policy.mode, "scope": policy.scope,
            "channels": policy.channels})
        if request.method == "POST" and form.is_valid():
            try:
                network_policy_update(
                    tenant=tenant, actor=request.user, entries=form.cleaned_data["entries"],
                    mode=form.cleaned_data["mode"], scope=form.cleaned_data["scope"],
                    channels=form.cleaned_data["channels"], confirm_self_lockout=form.cleaned_data["confirm_self_lockout"], actor_ip=ip,
                )
            except ValidationError as exc:
                needs_confirmation = is_self_lockout(exc)
                form.add_error(None, exc)
            else:
                messages.success(request, _("The network allowlist is saved."))
                return redirect("policy_network")
    return render(request, "security/policies/network.html", {
        "policy": policy, "entries": rows, "form": form, "can_manage": manage,
        "current_ip": ip, "inside": ip_allowed(ip, saved),
        "applies_to_me": policy.mode != Mode.OFF and saved.applies_to(request.user.role),
        "needs_confirmation": needs_confirmation,
    })
