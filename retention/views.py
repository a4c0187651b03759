"""The retention pages: the policy with the last sweep's receipt, legal holds, and the reports.

Views stay thin: a form shapes the input, one service writes (``retention.services``, which checks
``Cap.RETENTION_MANAGE`` itself) and the selectors read. Everyone with ``Cap.POLICY_VIEW`` reads
the policy and the holds; owners (``RETENTION_MANAGE``) change them, and a POST from anyone else
is a 403.

Shortening a period deletes rows at the next sweep, so it takes two steps: the form's values
first come back as a confirmation page with ``purge_preview``'s counts, carrying the change in a
signed token (the tenant, the person, the values before and after, ten minutes to live). Only
that token's POST saves, and only while the policy still has the values the preview was computed
from: a stale, expired, foreign or tampered token changes nothing. Lengthening saves at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.requests import ConsoleRequest
from activity.capture import client_info
from activity.lifetime import RetentionRules, retention_policy_get
from activity.services import export_event_complete, export_event_start
from retention import pages_selectors, reports, selectors, services
from retention.forms import HoldExtendForm, LegalHoldForm, RetentionPolicyForm
from retention.models import LegalHold
from tenants.access import requires
from tenants.roles import Cap

CONFIRM_SALT = "retention.policy.confirm"
CONFIRM_MAX_AGE = 600  # seconds a confirmation page stays valid
FIELDS = ("visible_days", "purge_days", "audit_days")
RECEIPTS_SHOWN = 10
LIFTED_SHOWN = 50


def _manager(request: ConsoleRequest) -> bool:
    """Whether the page offers the forms; a POST without ``RETENTION_MANAGE`` is refused."""
    allowed = request.user.can(Cap.RETENTION_MANAGE)
    if request.method == "POST" and not allowed:
        raise PermissionDenied
    return allowed


def _today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


# --- The policy ------------------------------------------------------------------------------------


def _values(policy: Any) -> list[int]:
    return [int(getattr(policy, name)) for name in FIELDS]


def _confirm_token(request: ConsoleRequest, *, before: list[int], after: list[int]) -> str:
    return signing.dumps({"tenant": request.tenant.pk, "actor": request.user.pk,
                          "before": before, "after": after}, salt=CONFIRM_SALT, compress=False)


def _confirmed_values(request: ConsoleRequest, token: str, current: list[int]) -> list[int] | None:
    """The values a confirmation token carries, or None (and a message) when it must not save."""
    try:
        data = signing.loads(token[:1024], salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        messages.error(request, _("That confirmation has expired; nothing was changed. Review "
                                  "the change again."))
        return None
    except (signing.BadSignature, ValueError, TypeError):
        messages.error(request, _("That confirmation is not valid; nothing was changed."))
        return None
    after = data.get("after") if isinstance(data, dict) else None
    if (data.get("tenant") != request.tenant.pk or data.get("actor") != request.user.pk
            or not isinstance(after, list) or len(after) != len(FIELDS)
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in after)):
        messages.error(request, _("That confirmation is not valid; nothing was changed."))
        return None
    if data.get("before") != current:
        messages.error(request, _("The retention policy changed since that preview; nothing was "
                                  "changed. Review the change again."))
        return None
    return after


def _save(request: ConsoleRequest, values: list[int]) -> bool:
    try:
        services.retention_policy_update(tenant=request.tenant, actor=request.user,
                                         **dict(zip(FIELDS, values, strict=True)))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return False
    messages.success(request, _("The retention policy is saved. The next sweep applies it to "
                                "the records already stored."))
    return True


def _policy_context(request: ConsoleRequest) -> dict[str, Any]:
    tenant = request.tenant
    receipts = selectors.sweep_receipts_list(tenant=tenant, limit=RECEIPTS_SHOWN)
    return {
        "policy": retention_policy_get(tenant=tenant),
        "last_receipt": receipts[0] if receipts else None,
        "receipts": [(receipt, _receipt_tables(receipt), _duration(receipt.duration))
                     for receipt in receipts],
        "active_holds": selectors.legal_holds_list(tenant=tenant).count(),
    }


def _duration(value: dt.timedelta | None) -> str:
    seconds = value.total_seconds() if value is not None else 0.0
    if seconds < 60:
        return _("%(seconds).1f s") % {"seconds": seconds}
    return _("%(minutes)d min %(seconds)d s") % {"minutes": seconds // 60, "seconds": seconds % 60}


def _receipt_tables(receipt: Any) -> list[tuple[str, int]]:
    rows = receipt.rows_purged if isinstance(receipt.rows_purged, dict) else {}
    return [(selectors.table_label(table), int(count))
            for table, count in rows.items() if count]


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Cap.POLICY_VIEW)
def retention_policy_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    can_manage = _manager(request)
    policy = retention_policy_get(tenant=tenant)
    current = _values(policy)
    form = None
    if can_manage:
        if request.method == "POST" and "confirm" in request.POST:
            after = _confirmed_values(request, str(request.POST.get("confirm", "")), current)
            if after is not None:
                _save(request, after)
            return redirect("retention_policy")
        form = RetentionPolicyForm(request.POST if request.method == "POST" else None,
                                   initial=dict(zip(FIELDS, current, strict=True)))
        if request.method == "POST" and form.is_valid():
            after = [int(form.cleaned_data[name]) for name in FIELDS]
            if after == current:
                messages.info(request, _("Nothing changed."))
                return redirect("retention_policy")
            if any(new < old for new, old in zip(after, current, strict=True)):
                return _confirm_page(request, before=current, after=after)
            if _save(request, after):
                return redirect("retention_policy")
    return render(request, "retention/policy.html",
                  {**_policy_context(request), "form": form, "can_manage": can_manage})


def _confirm_page(request: ConsoleRequest, *, before: list[int], after: list[int]) -> HttpResponse:
    rules = RetentionRules(**dict(zip(FIELDS, after, strict=True)))
    preview = selectors.purge_preview(tenant=request.tenant, rules=rules)
    changes = [(label, old, new) for label, old, new in zip(
        (_("Visible for"), _("Deleted after"), _("Audit trail kept for")), before, after,
        strict=True)]
    return render(request, "retention/policy_confirm.html", {
        "preview": preview,
        "preview_rows": preview.labelled(),
        "held_rows": [(selectors.table_label(t), n)
                      for t, n in preview.held.items() if n],
        "changes": changes,
        "shorter_visible": after[0] < before[0],
        "token": _confirm_token(request, before=before, after=after),
        "max_minutes": CONFIRM_MAX_AGE // 60,
    })


# --- Legal holds -----------------------------------------------------------------------------------


def _hold_or_404(request: ConsoleRequest, pk: int) -> LegalHold:
    hold = selectors.legal_hold_get(tenant=request.tenant, pk=pk)
    if hold is None:  # missing, or another tenant's: the same answer
        raise Http404
    return hold


def _form_errors(form: Any, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Cap.POLICY_VIEW)
def legal_holds_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    can_manage = _manager(request)
    form = None
    if can_manage:
        people = pages_selectors.hold_people(tenant=tenant)
        form = LegalHoldForm(request.POST if request.method == "POST" else None, people=people)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                hold = services.legal_hold_place(tenant=tenant, actor=request.user,
                                                 person=data["person"], reason=data["reason"],
                                                 ends_on=data["ends_on"])
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The legal hold is placed until %(day)s.")
                                 % {"day": hold.ends_on.isoformat()})
                return redirect("legal_holds")
    today = _today()
    open_holds = list(selectors.legal_holds_list(tenant=tenant))
    ended = list(selectors.legal_holds_list(tenant=tenant, include_lifted=True)
                 .filter(lifted_at__isnull=False)[:LIFTED_SHOWN])
    return render(request, "retention/holds.html", {
        "active": [h for h in open_holds if h.ends_on >= today],
        # Past their end date, not yet lifted by the sweep: they no longer hold anything.
        "expired": [h for h in open_holds if h.ends_on < today],
        "ended": ended,
        "form": form,
        "can_manage": can_manage,
        "today": today,
    })


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Cap.RETENTION_MANAGE)
def legal_hold_extend_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    hold = _hold_or_404(request, pk)
    if hold.lifted_at is not None:
        messages.error(request, _("This hold has already been lifted."))
        return redirect("legal_holds")
    form = HoldExtendForm(request.POST if request.method == "POST" else None,
                          initial={"ends_on": hold.ends_on})
    if request.method == "POST" and form.is_valid():
        try:
            services.legal_hold_extend(tenant=request.tenant, actor=request.user, hold=hold,
                                       ends_on=form.cleaned_data["ends_on"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The legal hold now ends on %(day)s.")
                             % {"day": form.cleaned_data["ends_on"].isoformat()})
            return redirect("legal_holds")
    return render(request, "retention/hold_extend.html", {"hold": hold, "form": form})


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Cap.RETENTION_MANAGE)
def legal_hold_lift_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    hold = _hold_or_404(request, pk)
    if hold.lifted_at is not None:
        messages.error(request, _("This hold has already been lifted."))
        return redirect("legal_holds")
    if request.method == "POST":
        try:
            services.legal_hold_lift(tenant=request.tenant, actor=request.user, hold=hold)
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
        else:
            messages.success(request, _("The legal hold is lifted. The next sweep deletes what it "
                                        "kept past the retention period."))
        return redirect("legal_holds")
    return render(request, "retention/hold_lift.html", {"hold": hold})


# --- Reports ---------------------------------------------------------------------------------------


@require_safe
@requires(Cap.REPORTS_VIEW)
def reports_view(request: ConsoleRequest) -> HttpResponse:
    today = _today()
    period, errors = reports.period_from_query(request.GET, today=today)
    totals = selectors.activity_totals(tenant=request.tenant, since=period.since,
                                       until=period.until)
    report = reports.report_build(totals, period)
    month = period.month or today.replace(day=1)
    return render(request, "retention/reports.html", {
        "report": report,
        "period": period,
        "errors": errors,
        "period_days": reports.PERIOD_DAYS,
        "months": reports.months_choices(today=today),
        "csv_month": month.strftime("%Y-%m"),
    })


@require_safe
@requires(Cap.REPORTS_VIEW)
def reports_month_csv_view(request: ConsoleRequest) -> HttpResponse:
    """One month's daily counts as CSV, recorded as an export like every download of the record."""
    today = _today()
    value = str(request.GET.get("month", ""))[:16]
    first = reports.month_parse(value, today=today)
    if first is None:
        return render(request, "retention/report_error.html", {
            "errors": [_("Choose a month from 2000 to this month, such as %(example)s.")
                       % {"example": today.strftime("%Y-%m")}],
        }, status=400)
    tenant = request.tenant
    month = first.strftime("%Y-%m")
    event = export_event_start(tenant=tenant, user=request.user, client=client_info(request),
                               dataset=reports.DATASET, format="csv", filters={"month": month})
    totals = selectors.activity_totals(tenant=tenant, since=first,
                                       until=min(reports.month_end(first), today))
    text, rows = reports.month_csv(totals)
    body = text.encode("utf-8")
    export_event_complete(event=event, row_count=rows, byte_count=len(body))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="{tenant.slug}-report-{month}.csv"')
    return response


__all__ = [
    "legal_hold_extend_view",
    "legal_hold_lift_view",
    "legal_holds_view",
    "reports_month_csv_view",
    "reports_view",
    "retention_policy_view",
]
