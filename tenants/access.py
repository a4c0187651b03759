"""How a view says what it needs, and how one object is fetched for a request.

Every URL's view carries a ``capability`` attribute: a ``Cap`` (signed-in person of an active
tenant whose role grants it), ``PUBLIC`` (anyone) or ``OPERATOR`` (Django admin). A test walks
the URL patterns and fails on a view without one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase

from tenants.models import Tenant
from tenants.roles import Cap

PUBLIC = "public"
OPERATOR = "operator"

M = TypeVar("M", bound=Model)
V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def check_capability(request: HttpRequest, cap: Cap) -> HttpResponse | None:
    """None when the request may proceed, else the response that stops it."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if getattr(request, "tenant", None) is None:  # an operator: the console is for tenant roles
        raise PermissionDenied
    if not user.can(cap):
        raise PermissionDenied
    return None


def requires(cap: Cap | str) -> Callable[[V], V]:
    """Decorator for function views: ``@requires(Cap.PEOPLE_VIEW)`` or ``@requires(PUBLIC)``."""

    def decorate(view: V) -> V:
        if cap in (PUBLIC, OPERATOR):
            view.capability = cap  # type: ignore[attr-defined]
            return view

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            stop = check_capability(request, cap)  # type: ignore[arg-type]
            return stop if stop is not None else view(request, *args, **kwargs)

        wrapped.capability = cap  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


class CapabilityRequiredMixin:
    """Class-based views set ``capability``; dispatch refuses a role without it."""

    capability: Cap | str

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.capability not in (PUBLIC, OPERATOR):
            stop = check_capability(request, self.capability)  # type: ignore[arg-type]
            if stop is not None:
                return stop
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def get_for_tenant_or_404[M: Model](queryset: QuerySet[M], *, tenant: Tenant, **lookup: Any) -> M:
    """One object of this tenant; another tenant's object is exactly as missing as no object."""
    try:
        return queryset.filter(tenant=tenant).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None
