"""The MFA policy page."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.requests import ConsoleRequest
from security.policies.mfa.forms import MfaPolicyForm
from security.policies.mfa.rules import MfaRules
from security.policies.mfa.selectors import mfa_policy_get
from security.policies.mfa.services import mfa_policy_update
from security.policies.pages import policy_page
from tenants.access import requires
from tenants.roles import Cap


@requires(Cap.POLICY_VIEW)
def mfa_policy_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    policy = mfa_policy_get(tenant=tenant)

    def save(data: dict[str, Any]) -> object:
        return mfa_policy_update(tenant=tenant, actor=request.user, **data)

    return policy_page(
        request, form_class=MfaPolicyForm, save=save, template="security/policies/mfa.html",
        initial={"requirement": policy.requirement, "grace_days": policy.grace_days},
        success=_("The two-step sign-in policy is saved."), url_name="policy_mfa",
        context={"policy": policy, "grace_ends_at": MfaRules.from_policy(policy).grace_ends_at,
                 "now": timezone.now()})
