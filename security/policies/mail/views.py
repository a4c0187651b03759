"""The mail-client policy page, and the person page's mail switch."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.requests import ConsoleRequest
from security.policies.mail.forms import MailPolicyForm, PersonMailForm
from security.policies.mail.rules import ROLE_FIELDS
from security.policies.mail.selectors import mail_policy_get
from security.policies.mail.services import mail_policy_update, person_mail_protocols_set
from security.policies.pages import policy_page
from tenants.access import get_for_tenant_or_404, requires
from tenants.roles import Cap, Role


@requires(Cap.POLICY_VIEW)
def mail_policy_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    policy = mail_policy_get(tenant=tenant)
    off_roles = [role for role, name in ROLE_FIELDS.items() if getattr(policy, name)]

    def save(data: dict[str, Any]) -> object:
        return mail_policy_update(tenant=tenant, actor=request.user,
                                  client_passwords_required=data["client_passwords_required"],
                                  off_roles=data["off_roles"])

    return policy_page(
        request, form_class=MailPolicyForm, save=save, template="security/policies/mail.html",
        initial={"client_passwords_required": policy.client_passwords_required, "off_roles": off_roles},
        success=_("The mail client policy is saved."), url_name="policy_mail",
        context={"policy": policy,
                 "off_labels": [label for value, label in Role.choices if value in off_roles]})


@require_POST
@requires(Cap.PEOPLE_SUSPEND)
def person_mail_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    """The person page's switch: mail protocols off (or on again) for this one person."""
    person = get_for_tenant_or_404(User.objects.all(), tenant=request.tenant, pk=pk)
    form = PersonMailForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors.get("mail_protocols", [])))
        return redirect("person_detail", pk=person.pk)
    off = form.cleaned_data["mail_protocols"] == "off"
    names = {"person": person}
    try:
        changed = person_mail_protocols_set(actor=request.user, person=person, off=off)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if changed:
            messages.success(request, (_("Mail protocols are off for %(person)s.") if off
                                       else _("Mail protocols are on again for %(person)s.")) % names)
        else:  # a stale page, or a second click: nothing to change and no audit entry
            messages.info(request, (_("Mail protocols were already off for %(person)s.") if off
                                    else _("Mail protocols were already on for %(person)s.")) % names)
    return redirect("person_detail", pk=person.pk)
