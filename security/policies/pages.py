"""What the policy pages share.

Owners and admins (``POLICY_MANAGE``) edit; auditors (``POLICY_VIEW``) read the same page without
a form, and a POST from them is a 403. The services check the capability again and stay the
authority.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.requests import ConsoleRequest
from tenants.roles import Cap


def can_manage(request: ConsoleRequest) -> bool:
    """Whether the page shows a form; a POST without ``POLICY_MANAGE`` is refused here."""
    allowed = request.user.can(Cap.POLICY_MANAGE)
    if request.method == "POST" and not allowed:
        raise PermissionDenied
    return allowed


def is_self_lockout(exc: ValidationError) -> bool:
    return any(getattr(error, "code", None) == "self_lockout" for error in exc.error_list)


def policy_page(
    request: ConsoleRequest, *, form_class: type[Form], initial: dict[str, Any],
    save: Callable[[dict[str, Any]], object], template: str, success: str, url_name: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The shared shape: read-only facts for everyone, a form for managers, errors re-rendered."""
    form = None
    if can_manage(request):
        form = form_class(request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                save(form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, success)
                return redirect(url_name)
    return render(request, template, {**context, "form": form, "can_manage": form is not None})
