from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from accounts.requests import ConsoleRequest
from mailadmin import dashboards
from mailadmin.health import readiness
from tenants.access import PUBLIC, requires
from tenants.roles import Cap, Role


@requires(Cap.DASHBOARD_VIEW)
def dashboard_view(request: ConsoleRequest) -> HttpResponse:
    """The dashboard of the viewer's role (``mailadmin.dashboards``)."""
    tenant, user, now = request.tenant, request.user, timezone.now()
    context: dict[str, object] = {**dashboards.people_figures(tenant=tenant)}
    if user.can(Cap.LOGS_VIEW):  # owner, admin, auditor: the security overview
        context["overview"] = dashboards.overview_build(
            tenant=tenant, user=user, period=request.GET.get("period", ""), now=now)
    if user.role == Role.HELPDESK:  # what the helpdesk acts on
        context["helpdesk"] = dashboards.helpdesk_build(tenant=tenant, now=now)
    context["can_unlock"] = user.can(Cap.PEOPLE_UNLOCK)
    context["can_reports"] = user.can(Cap.REPORTS_VIEW)
    context["is_helpdesk"] = user.role == Role.HELPDESK
    return render(request, "mailadmin/dashboard.html", context)


@requires(PUBLIC)
@never_cache
def healthz_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@requires(PUBLIC)
@never_cache
def readyz_view(request: HttpRequest) -> HttpResponse:
    checks = readiness()
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status=200 if ok else 503)
