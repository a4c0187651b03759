from __future__ import annotations

from datetime import UTC, timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from accounts.mfa.services import mfa_enrolled_count
from accounts.requests import ConsoleRequest
from activity.selectors import login_outcome_counts
from alerts.selectors import open_alert_counts
from mailadmin.health import readiness
from people import selectors as people_selectors
from retention.pages_selectors import signins_daily
from retention.reports import DASHBOARD_DAYS, signins_chart
from security.signin.lockout import locked_accounts_list
from tenants.access import PUBLIC, requires
from tenants.roles import Cap, Role


@requires(Cap.DASHBOARD_VIEW)
def dashboard_view(request: ConsoleRequest) -> HttpResponse:
    counts = people_selectors.people_counts(tenant=request.tenant)
    pending = people_selectors.invitations_pending(tenant=request.tenant)
    context = {
        "counts": counts,
        "total": sum(counts["by_status"].values()),
        "roles": [(label, counts["by_role"][value]) for value, label in Role.choices],
        "pending": pending.order_by("expires_at")[:10],
        "pending_count": pending.count(),
        "domains": people_selectors.mail_domains_list(tenant=request.tenant),
        "signins_24h": login_outcome_counts(tenant=request.tenant,
                                            since=timezone.now() - timedelta(hours=24)),
        "locked_count": len(locked_accounts_list(tenant=request.tenant)),
        "mfa_enrolled": mfa_enrolled_count(tenant=request.tenant),
    }
    if request.user.can(Cap.ALERTS_VIEW):
        context["open_alerts"] = open_alert_counts(tenant=request.tenant)
    if request.user.can(Cap.REPORTS_VIEW):
        today = timezone.now().astimezone(UTC).date()
        context["signins_chart"] = signins_chart(signins_daily(
            tenant=request.tenant, since=today - timedelta(days=DASHBOARD_DAYS - 1), until=today))
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
