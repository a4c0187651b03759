"""The two ways to say "This wasn't me": a POST on a row of one's own sign-in history (signed
in), and the "Was this you?" e-mail's link, which works without signing in. Both ask first (a
mail scanner that fetches the link's GET changes nothing); the POST that confirms acts.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.requests import ConsoleRequest
from activity.selectors import login_event_get
from alerts.report import services as report
from alerts.report.links import LinkProblem
from alerts.rules.countries import country_name
from tenants.access import PUBLIC, requires
from tenants.roles import Cap


def _reported(request: HttpRequest, result: report.ReportResult) -> HttpResponse:
    return render(request, "alerts/report_done.html", {
        "public_page": True, "event": result.event, "created": result.created,
        "display_tz": result.alert.user.effective_timezone if result.alert.user else "UTC",
        "country": country_name(result.event.country) if result.event.country else "",
    })


@require_POST
@requires(Cap.SELF_SERVICE)
def signin_report_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    """From a row of "My sign-ins": the first POST asks for confirmation, the second acts."""
    event = login_event_get(tenant=request.tenant, pk=pk)
    if event.user_id != request.user.pk:
        raise Http404
    if request.POST.get("confirm") != "1":
        return render(request, "alerts/report_confirm.html", {
            "event": event, "display_tz": request.user.effective_timezone,
            "country": country_name(event.country) if event.country else "",
            "action": reverse("signin_report", args=[event.pk]),
            "reportable": event.outcome in report.REPORTABLE_OUTCOMES,
        })
    try:
        result = report.signin_report(user=request.user, event_id=event.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("my_signins")
    # Every session of the person has ended, this one too: forget it in this browser.
    request.session.flush()
    return _reported(request, result)


_LINK_PROBLEMS = {
    LinkProblem.INVALID: gettext_lazy(
        "This link is not valid. It may have been cut short or changed. If you did not make a "
        "sign-in you were told about, change your password and tell your administrator."),
    LinkProblem.EXPIRED: gettext_lazy(
        "This link has expired: links in “Was this you?” e-mails work for 7 days. Sign in and "
        "report the sign-in from your sign-in history, or tell your administrator."),
    LinkProblem.USED: gettext_lazy(
        "This link has been used already: the sign-in was reported and your account was "
        "secured. Sign in with a new password to continue."),
}


def _link_refused(request: HttpRequest, problem: LinkProblem) -> HttpResponse:
    return render(request, "alerts/report_link_invalid.html",
                  {"public_page": True, "message": _LINK_PROBLEMS[problem]},
                  status=410 if problem is not LinkProblem.INVALID else 404)


@requires(PUBLIC)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def report_link_view(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mail's link: GET shows what will happen (mail scanners fetch GETs), POST acts."""
    if request.method == "POST":
        outcome = report.signin_report_by_link(token=token)
        if isinstance(outcome, LinkProblem):
            return _link_refused(request, outcome)
        if request.user.is_authenticated and request.user.pk == outcome.alert.user_id:
            request.session.flush()
        return _reported(request, outcome)
    link, event, problem = report.report_link_preview(token=token)
    if problem is not None or link is None or event is None:
        return _link_refused(request, problem or LinkProblem.INVALID)
    return render(request, "alerts/report_confirm.html", {
        "public_page": True, "event": event, "display_tz": link.user.effective_timezone,
        "country": country_name(event.country) if event.country else "",
        "action": reverse("alert_report_link", args=[token]), "reportable": True,
        "by_link": True,
    })
