"""One shape for the person page's confirmed actions (offboarding's and the helpdesk's).

``confirmed_action`` builds the view: GET shows a confirmation page saying what will happen to
whom, POST does it through one service and says how it went. Both need the capability and the
acting admin's confirmation of who they are within the last five minutes
(``accounts.mfa.decorators.recent_auth_required``): a POST without it comes back as a GET after
the confirmation, so nothing is done that the admin did not see. The services check the rules
(rank, tenant, state) and write the audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.mfa.decorators import recent_auth_required
from accounts.models import User
from accounts.requests import ConsoleRequest
from people import selectors
from tenants.access import requires
from tenants.roles import Cap

Service = Callable[..., object]
View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page says: its title, what will happen, and its button."""

    title: str
    effects: list[str]
    button: str
    danger: bool = False


def _to_person(request: ConsoleRequest, person: User) -> HttpResponse:
    return redirect("person_detail", pk=person.pk)


def confirmed_action(*, cap: Cap, service: Service, confirmation: Callable[[User], Confirmation],
                     success: Callable[[User, object], str],
                     done: Callable[[ConsoleRequest, User], HttpResponse] = _to_person,
                     template: str = "people/offboarding/confirm.html", name: str) -> View:
    """The view of one action on one person of the tenant (another tenant's id is a 404)."""

    def view(request: ConsoleRequest, pk: int) -> HttpResponse:
        person = selectors.person_get(tenant=request.tenant, pk=pk)
        if request.method != "POST":
            return render(request, template, {"person": person, "confirmation": confirmation(person)})
        try:
            result = service(tenant=request.tenant, actor=request.user, person=person)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, success(person, result))
        return done(request, person)

    view.__name__ = view.__qualname__ = name
    return requires(cap)(never_cache(recent_auth_required(view)))
