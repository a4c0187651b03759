"""The lockout policy page. Unlocking people is on the people pages (``PEOPLE_UNLOCK``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from accounts.requests import ConsoleRequest
from security.policies.lockout.forms import LockoutPolicyForm
from security.policies.lockout.selectors import lockout_policy_get
from security.policies.lockout.services import lockout_policy_update
from security.policies.pages import policy_page
from tenants.access import requires
from tenants.roles import Cap


@requires(Cap.POLICY_VIEW)
def lockout_policy_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    policy = lockout_policy_get(tenant=tenant)

    def save(data: dict[str, Any]) -> object:
        return lockout_policy_update(tenant=tenant, actor=request.user, **data)

    return policy_page(
        request, form_class=LockoutPolicyForm, save=save, template="security/policies/lockout.html",
        initial={"failure_limit": policy.failure_limit, "cooloff_minutes": policy.cooloff_minutes,
                 "account_ceiling": policy.account_ceiling, "ceiling_hours": policy.ceiling_hours},
        success=_("The lockout policy is saved."), url_name="policy_lockout",
        context={"policy": policy, "can_unlock": request.user.can(Cap.PEOPLE_UNLOCK)})
