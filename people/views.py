from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.mfa.services import mfa_user_has_device
from accounts.models import User
from accounts.requests import ConsoleRequest
from alerts.selectors import open_alert_counts
from people import selectors, services
from people.confirm import Confirmation, confirmed_action
from people.forms import AcceptInvitationForm, InviteForm, RoleForm
from security.policies.lockout.selectors import lockout_rules_for
from security.policies.mail.selectors import person_mail_glance
from security.policies.password.validators import password_validators_for
from security.sessions.selectors import user_sessions_list
from security.signin.lockout import locked_accounts_list
from tenants.access import PUBLIC, requires
from tenants.roles import Cap, Role, can_manage, role_has


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@requires(Cap.PEOPLE_INVITE)
def person_invite_view(request: ConsoleRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if not role_has(request.user.role, Cap.PEOPLE_MAKE_OWNER):
        _roles_below_owner(form)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.person_invite(
                tenant=request.tenant, actor=request.user, email=form.cleaned_data["email"],
                display_name=form.cleaned_data["display_name"], role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": issued.invitation.user.email})
            return redirect("person_detail", pk=issued.invitation.user_id)
    return render(request, "people/person_invite.html", {"form": form})


@requires(Cap.PEOPLE_VIEW)
def person_detail_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    """One person: their facts, open sessions and alerts, and the actions the viewer's role
    allows on them (each action's own page confirms it and asks for a fresh confirmation)."""
    person = selectors.person_get(tenant=request.tenant, pk=pk)
    actor = request.user
    role_form = RoleForm(initial={"role": person.role})
    if not actor.can(Cap.PEOPLE_MAKE_OWNER):
        _roles_below_owner(role_form)
    status = person.status
    offboarded = status == User.Status.OFFBOARDED
    # Nobody acts on themselves here (their own pages are under /me/) or above their rank.
    manageable = person.pk != actor.pk and can_manage(actor.role, person.role)
    invitation = selectors.invitation_latest_for(tenant=request.tenant, person=person)
    invitation_pending = (status == User.Status.INVITED and invitation is not None
                          and invitation.accepted_at is None and invitation.revoked_at is None)
    sessions = user_sessions_list(user=person)
    has_mfa = mfa_user_has_device(user=person)
    locked = bool(locked_accounts_list(tenant=request.tenant, person=person))
    context = {
        "person": person,
        "role_form": role_form,
        "can_change_role": actor.can(Cap.PEOPLE_CHANGE_ROLE) and (
            actor.can(Cap.PEOPLE_MAKE_OWNER) or person.role != Role.OWNER
        ) and not offboarded,
        "can_manage": actor.can(Cap.PEOPLE_SUSPEND) and manageable,
        "invitation": invitation,
        "invitation_pending": invitation_pending,
        "has_mfa": has_mfa,
        "locked": locked,
        "sessions": sessions,
        "can_view_logs": actor.can(Cap.LOGS_VIEW),
        # Sign-in help (helpdesk and up).
        "can_unlock": locked and actor.can(Cap.PEOPLE_UNLOCK) and can_manage(actor.role, person.role),
        "can_reset_mfa": has_mfa and actor.can(Cap.PEOPLE_RESET_MFA) and manageable,
        "can_send_reset": status == User.Status.ACTIVE and actor.can(Cap.PEOPLE_UNLOCK) and manageable,
        "can_require_password_change": status in (User.Status.ACTIVE, User.Status.SUSPENDED)
        and not person.must_change_password and actor.can(Cap.PEOPLE_SUSPEND) and manageable,
        "can_end_sessions": bool(sessions) and actor.can(Cap.PEOPLE_SUSPEND) and manageable,
        "can_resend_invitation": status == User.Status.INVITED and actor.can(Cap.PEOPLE_INVITE)
        and manageable,
        "can_revoke_invitation": invitation_pending and actor.can(Cap.PEOPLE_INVITE) and manageable,
        # Offboarding (admins and owners) and coming back from it (owners).
        "can_offboard": not offboarded and actor.can(Cap.PEOPLE_OFFBOARD) and manageable,
        "offboard_scheduled": not offboarded and person.offboard_at is not None,
        "can_reactivate_offboarded": offboarded and actor.can(Cap.PEOPLE_MAKE_OWNER)
        and person.pk != actor.pk,
        # Mail clients: what they may sign in with, and the switch (security.policies.mail).
        "mail": person_mail_glance(person=person, actor=actor, has_mfa_device=has_mfa),
    }
    context["has_sign_in_help"] = any(context[key] for key in (
        "can_unlock", "can_reset_mfa", "can_send_reset", "can_require_password_change",
        "can_resend_invitation", "can_revoke_invitation"))
    if actor.can(Cap.ALERTS_VIEW):
        context["open_alerts"] = open_alert_counts(tenant=request.tenant, user=person)
    return render(request, "people/person_detail.html", context)


def _roles_below_owner(form: forms.Form) -> None:
    cast(forms.ChoiceField, form.fields["role"]).choices = [
        c for c in Role.choices if c[0] != Role.OWNER]


def _person_action(request: ConsoleRequest, pk: int, action: Callable[..., object],
                   success: str) -> HttpResponse:
    person = selectors.person_get(tenant=request.tenant, pk=pk)
    try:
        action(tenant=request.tenant, actor=request.user, person=person)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, success % {"name": person})
    return redirect("person_detail", pk=person.pk)


@require_POST
@requires(Cap.PEOPLE_CHANGE_ROLE)
def person_role_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(tenant=request.tenant, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
        return redirect("person_detail", pk=person.pk)
    try:
        services.person_change_role(tenant=request.tenant, actor=request.user, person=person,
                                    role=form.cleaned_data["role"])
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(name)s is now %(role)s.") % {
            "name": person, "role": person.get_role_display()})
    return redirect("person_detail", pk=person.pk)


@require_POST
@requires(Cap.PEOPLE_SUSPEND)
def person_suspend_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    return _person_action(request, pk, services.person_suspend,
                          _("%(name)s is suspended and signed out everywhere."))


@require_POST
@requires(Cap.PEOPLE_SUSPEND)
def person_reactivate_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    return _person_action(request, pk, services.person_reactivate,
                          _("%(name)s can sign in again."))


# The sign-in help actions: each on a confirmation page behind a fresh confirmation (people.confirm).

person_reset_mfa_view = confirmed_action(
    name="person_reset_mfa_view", cap=Cap.PEOPLE_RESET_MFA, service=services.person_mfa_reset,
    confirmation=lambda person: Confirmation(
        title=_("Reset two-step sign-in of %(name)s?") % {"name": person},
        effects=[_("Every authenticator app, passkey and backup code of %(name)s is removed at once.")
                 % {"name": person},
                 _("At their next sign-in they set up two-step sign-in again."),
                 _("%(email)s is e-mailed that this happened.") % {"email": person.email}],
        button=_("Reset two-step sign-in"), danger=True),
    success=lambda person, _removed: _(
        "Two-step sign-in was reset for %(name)s. They set it up again at their next sign-in.")
    % {"name": person},
)

invitation_resend_view = confirmed_action(
    name="invitation_resend_view", cap=Cap.PEOPLE_INVITE, service=services.invitation_resend,
    confirmation=lambda person: Confirmation(
        title=_("Send %(name)s a new invitation?") % {"name": person},
        effects=[_("%(email)s receives a new invitation e-mail with a fresh link.")
                 % {"email": person.email},
                 _("The links in their earlier invitations stop working.")],
        button=_("Send a new invitation")),
    success=lambda person, _issued: _("A new invitation was sent to %(name)s.") % {"name": person},
)


@requires(PUBLIC)
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_get_valid(token=token)
    except services.InvitationInvalid as exc:
        return render(request, "people/invitation_invalid.html", {"message": exc.message, "public_page": True}, status=410)
    form = AcceptInvitationForm(request.POST or None,
                                initial={"display_name": invitation.user.display_name})
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(token=token, password=form.cleaned_data["password1"],
                                       display_name=form.cleaned_data["display_name"])
        except services.InvitationInvalid as exc:
            return render(request, "people/invitation_invalid.html", {"message": exc.message, "public_page": True}, status=410)
        except ValidationError as exc:
            form.add_error("password1", exc)
        else:
            messages.success(request, _("Your password is set. Sign in to continue."))
            return redirect("signin")
    help_texts = password_validators_help_texts(password_validators_for(invitation.user))
    return render(request, "people/invitation_accept.html",
                  {"form": form, "invitation": invitation, "help_texts": help_texts,
                   "public_page": True})


@require_safe
@requires(Cap.PEOPLE_VIEW)
def locked_accounts_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    return render(request, "people/locked_accounts.html", {
        "locked": locked_accounts_list(tenant=tenant),
        "rules": lockout_rules_for(tenant=tenant),
        "can_unlock": request.user.can(Cap.PEOPLE_UNLOCK),
    })


def _after_unlock(request: ConsoleRequest, person: User) -> HttpResponse:
    # The person page and the confirmation page say so; the locked-accounts list's button comes back to it.
    if request.POST.get("back") == "person":
        return redirect("person_detail", pk=person.pk)
    return redirect("locked_accounts")


person_unlock_view = confirmed_action(
    name="person_unlock_view", cap=Cap.PEOPLE_UNLOCK, service=services.person_unlock,
    confirmation=lambda person: Confirmation(
        title=_("Unlock %(name)s?") % {"name": person},
        effects=[_("%(name)s can sign in again at once, from every address they were locked out of.")
                 % {"name": person},
                 _("Their failed sign-ins so far no longer count towards a lockout."),
                 _("Their password and two-step sign-in do not change.")],
        button=_("Unlock")),
    success=lambda person, _removed: _("%(name)s can sign in again.") % {"name": person},
    done=_after_unlock,
)
