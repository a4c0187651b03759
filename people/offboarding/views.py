"""The person page's account actions: offboard (now or on a date), cancel, reactivate an
offboarded person, require a password change, end sessions, revoke an invitation, send a
password-reset link.

Each action's URL shows, on GET, a confirmation page saying what will happen to whom, and does
it on POST, behind the acting admin's fresh confirmation of who they are: one shape,
``people.confirm.confirmed_action``, except offboarding itself, which has a form (reason, date).
The services check the rules.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.mailclients.selectors import mail_client_password_active_exists
from accounts.mfa.decorators import recent_auth_required
from accounts.mfa.services import mfa_user_has_device
from accounts.models import User
from accounts.requests import ConsoleRequest
from people import selectors
from people.confirm import Confirmation, confirmed_action
from people.offboarding import services
from people.offboarding.forms import OffboardForm
from security.recovery.services import password_reset_send
from security.sessions.selectors import user_sessions_list
from tenants.access import requires
from tenants.roles import Cap

# --- Offboarding ---------------------------------------------------------------------------------


def _offboard_effects(person: User) -> list[str]:
    sessions = len(user_sessions_list(user=person))
    effects = [
        _("%(name)s can no longer sign in, in the browser or from a mail client.") % {"name": person},
        _("Their open sessions end at once (%(count)d now).") % {"count": sessions},
        _("Every authenticator app, passkey and backup code of theirs is removed.")
        if mfa_user_has_device(user=person) else _("They have no two-step sign-in to remove."),
        _("Their mail-client passwords are revoked.")
        if mail_client_password_active_exists(user=person) else _("They have no mail-client passwords."),
        _("Their pending invitation and password-reset links stop working."),
        _("Their sign-in history is kept only as long as your retention policy says."),
        _("The audit trail records who offboarded them, when and why."),
    ]
    return effects


@requires(Cap.PEOPLE_OFFBOARD)
@never_cache
@recent_auth_required
def person_offboard_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(tenant=request.tenant, pk=pk)
    form = OffboardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_offboard(tenant=request.tenant, actor=request.user, person=person,
                                     reason=form.cleaned_data["reason"],
                                     effective_at=form.cleaned_data["effective_at"])
        except ValidationError as exc:
            form.add_error("effective_at" if exc.code in {"date_too_far", "naive_date"} else None, exc)
        else:
            if person.status == User.Status.OFFBOARDED:
                messages.success(request, _("%(name)s is offboarded and signed out everywhere.")
                                 % {"name": person})
            else:
                messages.success(request, _("%(name)s will be offboarded on %(when)s.") % {
                    "name": person, "when": _when(person)})
            return redirect("person_detail", pk=person.pk)
    return render(request, "people/offboarding/offboard.html",
                  {"person": person, "form": form, "effects": _offboard_effects(person)})


def _when(person: User) -> str:
    if person.offboard_at is None:
        return ""
    return formats.date_format(timezone.localtime(person.offboard_at), "DATETIME_FORMAT")


person_offboard_cancel_view = confirmed_action(
    name="person_offboard_cancel_view", cap=Cap.PEOPLE_OFFBOARD,
    service=services.person_offboard_cancel,
    confirmation=lambda person: Confirmation(
        title=_("Cancel the offboarding of %(name)s?") % {"name": person},
        effects=[_("%(name)s stays as they are and is not offboarded on %(when)s.") % {
            "name": person, "when": _when(person)}],
        button=_("Cancel the offboarding")),
    success=lambda person, _result: _("The offboarding of %(name)s is cancelled.") % {"name": person},
)


def _reactivate_confirmation(person: User) -> Confirmation:
    if person.has_usable_password():
        effects = [_("%(name)s can sign in again with their password.") % {"name": person},
                   _("At that sign-in they must set up two-step sign-in anew and choose a new "
                     "password, whatever your two-step sign-in policy allows.")]
    else:
        effects = [_("%(name)s never accepted their invitation: they are e-mailed a new one.")
                   % {"name": person}]
    return Confirmation(title=_("Reactivate %(name)s?") % {"name": person}, effects=effects,
                        button=_("Reactivate"))


person_offboarded_reactivate_view = confirmed_action(
    name="person_offboarded_reactivate_view", cap=Cap.PEOPLE_MAKE_OWNER,
    service=services.person_offboarded_reactivate, confirmation=_reactivate_confirmation,
    success=lambda person, _result: (
        _("%(name)s is invited again.") if person.status == User.Status.INVITED
        else _("%(name)s can sign in again and will set up two-step sign-in first.")
    ) % {"name": person},
)


# --- Helpdesk actions ----------------------------------------------------------------------------


person_require_password_change_view = confirmed_action(
    name="person_require_password_change_view", cap=Cap.PEOPLE_SUSPEND,
    service=services.person_require_password_change,
    confirmation=lambda person: Confirmation(
        title=_("Require %(name)s to change their password?") % {"name": person},
        effects=[_("At their next sign-in %(name)s must choose a new password before anything else.")
                 % {"name": person},
                 _("Until then their mail clients cannot sign in."),
                 _("Without two-step sign-in, they set it up at that sign-in too.")],
        button=_("Require a password change")),
    success=lambda person, _result: _("%(name)s must change their password at their next sign-in.")
    % {"name": person},
)


person_sessions_end_view = confirmed_action(
    name="person_sessions_end_view", cap=Cap.PEOPLE_SUSPEND, service=services.person_sessions_end,
    confirmation=lambda person: Confirmation(
        title=_("End every session of %(name)s?") % {"name": person},
        effects=[_("%(name)s is signed out of %(count)d session(s) at once, on every device.") % {
            "name": person, "count": len(user_sessions_list(user=person))},
            _("Their password and two-step sign-in do not change.")],
        button=_("End all sessions"), danger=True),
    success=lambda person, ended: _("%(count)s session(s) of %(name)s ended.") % {
        "count": ended, "name": person},
)


invitation_revoke_view = confirmed_action(
    name="invitation_revoke_view", cap=Cap.PEOPLE_INVITE, service=services.invitation_revoke,
    confirmation=lambda person: Confirmation(
        title=_("Revoke the invitation of %(name)s?") % {"name": person},
        effects=[_("The link in their invitation e-mail stops working at once."),
                 _("You can send a new invitation later.")],
        button=_("Revoke the invitation"), danger=True),
    success=lambda person, _result: _("The invitation of %(name)s is revoked.") % {"name": person},
)


password_reset_send_view = confirmed_action(
    name="password_reset_send_view", cap=Cap.PEOPLE_UNLOCK, service=password_reset_send,
    confirmation=lambda person: Confirmation(
        title=_("Send %(name)s a password-reset link?") % {"name": person},
        effects=[_("%(email)s receives an e-mail with a single-use link to choose a new password.")
                 % {"email": person.email},
                 _("Earlier reset links of theirs stop working.")],
        button=_("Send the link")),
    success=lambda person, _result: _("A password-reset link was sent to %(email)s.") % {
        "email": person.email},
)

