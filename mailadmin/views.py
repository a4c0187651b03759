from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from mailadmin.health import readiness
from tenants import selectors as tenant_selectors
from tenants.access import PUBLIC, requires
from tenants.roles import Cap, Role


@requires(Cap.DASHBOARD_VIEW)
def dashboard_view(request: HttpRequest) -> HttpResponse:
    counts = tenant_selectors.people_counts(tenant=request.tenant)
    pending = tenant_selectors.invitations_pending(tenant=request.tenant)
    context = {
        "counts": counts,
        "total": sum(counts["by_status"].values()),
        "roles": [(label, counts["by_role"][value]) for value, label in Role.choices],
        "pending": pending.order_by("expires_at")[:10],
        "pending_count": pending.count(),
        "domains": tenant_selectors.mail_domains_list(tenant=request.tenant),
    }
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
