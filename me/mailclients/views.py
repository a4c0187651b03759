"""My client-specific passwords: one generated password per mail client, shown once, revocable."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.mailclients.models import MailClientPassword
from accounts.mailclients.selectors import mail_client_password_list
from accounts.mailclients.services import mail_client_password_create, mail_client_password_revoke
from accounts.requests import ConsoleRequest
from me.mailclients.forms import MailClientPasswordForm
from tenants.access import requires
from tenants.roles import Cap


def _page(request: ConsoleRequest, form: MailClientPasswordForm, *, created: MailClientPassword | None = None,
          plaintext: str = "") -> HttpResponse:
    return render(request, "me/mail_clients.html", {
        "form": form, "passwords": mail_client_password_list(user=request.user),
        "created": created, "plaintext": plaintext,
    })


@requires(Cap.SELF_SERVICE)
def mail_clients_view(request: ConsoleRequest) -> HttpResponse:
    form = MailClientPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            row, plaintext = mail_client_password_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            # Rendered, not redirected: the plaintext is never stored, not even in the session.
            return _page(request, MailClientPasswordForm(), created=row, plaintext=plaintext)
    return _page(request, form)


@requires(Cap.SELF_SERVICE)
@require_POST
def mail_client_revoke_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    try:
        row = mail_client_password_revoke(user=request.user, password_id=pk)
    except MailClientPassword.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The password of “%(name)s” is revoked; that mail client can no longer sign in.")
                     % {"name": row.name})
    return redirect("mail_clients")
