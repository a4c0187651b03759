"""The session policy page."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from accounts.requests import ConsoleRequest
from security.policies.pages import policy_page
from security.policies.sessions.forms import SessionPolicyForm
from security.policies.sessions.selectors import session_policy_get
from security.policies.sessions.services import session_policy_update
from tenants.access import requires
from tenants.roles import Cap


@requires(Cap.POLICY_VIEW)
def session_policy_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    policy = session_policy_get(tenant=tenant)

    def save(data: dict[str, Any]) -> object:
        return session_policy_update(tenant=tenant, actor=request.user, **data)

    return policy_page(
        request, form_class=SessionPolicyForm, save=save, template="security/policies/sessions.html",
        initial={"idle_timeout_minutes": policy.idle_timeout_minutes,
                 "absolute_lifetime_hours": policy.absolute_lifetime_hours},
        success=_("The session policy is saved."), url_name="policy_sessions",
        context={"policy": policy})
