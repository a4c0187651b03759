"""The alerts pages: list (filters, keyset pages, bulk actions, CSV export), detail (evidence in
words, timeline, triage), rule settings, trusts and the digest preference ("This wasn't me" is
``alerts.report.views``).

Thin: parse a form, call one selector or service, render. Reading needs ``Cap.ALERTS_VIEW``
(owner, admin, auditor); acting needs ``Cap.ALERTS_TRIAGE`` (owner, admin), which the services
check again.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.requests import ConsoleRequest
from activity.capture import client_info
from activity.exports.formats import CsvEncoder
from activity.keyset import SIZE_DEFAULT, CursorInvalid, size_clean
from activity.selectors import Window, window_get
from activity.services import export_event_complete, export_event_start, grey_zone_access_record
from alerts import selectors, services
from alerts.forms import (
    AlertActionForm,
    AlertFilterForm,
    BulkForm,
    DigestForm,
    RuleSettingForm,
    _posted_ids,
)
from alerts.models import Alert, AlertStatus, TrustKind
from alerts.rules import RULES
from alerts.rules.common import device_value
from alerts.rules.countries import country_name
from tenants.access import requires
from tenants.roles import Cap

EXPORT_CHUNK = 500
GREY_PARAM = "grey"  # as on the log pages: include the records pending deletion
EXPORT_COLUMNS = ("id", "rule", "severity", "status", "mode", "person", "assignee", "first_seen",
                  "last_seen", "count", "explanation")


def _filter_form(request: ConsoleRequest) -> AlertFilterForm:
    form = AlertFilterForm(request.GET or None, tenant=request.tenant,
                           tz=request.user.effective_timezone)
    if form.is_bound:
        form.is_valid()
    return form


def _params(form: AlertFilterForm) -> dict[str, str]:
    if not form.is_bound:
        return {}
    return {name: str(form.data[name]) for name in form.fields
            if form.data.get(name) not in (None, "") and name not in form.errors}


def _query(params: dict[str, str], **extra: str | None) -> str:
    return urlencode({**params, **{k: v for k, v in extra.items() if v}})


@require_safe
@requires(Cap.ALERTS_VIEW)
def alerts_list_view(request: ConsoleRequest) -> HttpResponse:
    form = _filter_form(request)
    filters = form.filters()
    alerts = selectors.alerts_filtered(tenant=request.tenant, filters=filters)
    size = size_clean(request.GET.get("size"))
    errors: list[str] = []
    try:
        page = selectors.alerts_page(alerts, cursor=request.GET.get("cursor") or None, size=size)
    except CursorInvalid:
        errors.append(_("That page link is not valid (it may have been cut or changed); showing "
                        "the newest alerts."))
        page = selectors.alerts_page(alerts, cursor=None, size=size)
    params = _params(form)
    if size != SIZE_DEFAULT:
        params["size"] = str(size)
    return render(request, "alerts/alert_list.html", {
        "form": form,
        "page": page,
        "rows": [(alert, selectors.rule_title(alert.rule)) for alert in page.rows],
        "errors": errors,
        "filters": filters,
        "newer_url": f"?{_query(params, cursor=page.prev_cursor)}" if page.prev_cursor else None,
        "older_url": f"?{_query(params, cursor=page.next_cursor)}" if page.next_cursor else None,
        "export_url": (reverse("alerts_export") + "?" + _query({k: v for k, v in params.items()
                                                                 if k != "size"})
                       if request.user.can(Cap.LOGS_EXPORT) else None),
        "grey_export_url": (reverse("alerts_export") + "?" + _query(
            {**{k: v for k, v in params.items() if k != "size"}, GREY_PARAM: "1"})
            if request.user.can(Cap.LOGS_EXPORT) and request.user.can(Cap.GREY_ZONE_VIEW)
            else None),
        "can_triage": request.user.can(Cap.ALERTS_TRIAGE),
        "bulk_actions": [(key, label) for key, label in BulkForm.base_fields["action"].choices],  # type: ignore[attr-defined]
        "display_tz": request.user.effective_timezone,
        "record_mode": filters.mode == "record",
    })


def _trust_candidates(alert: Alert, evidence: list[Any]) -> dict[str, str]:
    """What "trust this network / device / country" would trust, from the newest evidence."""
    if alert.user_id is None or not evidence:
        return {}
    latest = evidence[0]
    out: dict[str, str] = {}
    if latest.ip and latest.ip != "0.0.0.0":  # noqa: S104  # nosec B104  # the record's "unknown address", not a bind
        prefix = 24 if ":" not in latest.ip else 64
        out[TrustKind.NETWORK] = services.trust_value_clean(TrustKind.NETWORK,
                                                            f"{latest.ip}/{prefix}")
    if latest.browser_family and latest.os_family:
        out[TrustKind.DEVICE] = device_value(latest.browser_family, latest.os_family,
                                             latest.device_type or "other")
    if latest.country:
        out[TrustKind.COUNTRY] = latest.country
    return out


def _evidence_window(request: ConsoleRequest) -> tuple[Window, list[str]]:
    """The evidence's reading window: the visible days, or with a permitted ``grey=1`` back to
    the purge date (owners and auditors, Cap.GREY_ZONE_VIEW); anyone else asking is told."""
    asked = request.GET.get(GREY_PARAM) == "1"
    allowed = request.user.can(Cap.GREY_ZONE_VIEW)
    window = window_get(tenant=request.tenant, grey=asked and allowed)
    errors: list[str] = []
    if asked and not allowed:
        errors.append(_("Records pending deletion are shown to owners and auditors only; showing "
                        "the last %(days)d days.") % {"days": window.rules.visible_days})
    return window, errors


def _detail_context(request: ConsoleRequest, alert: Alert,
                    form: AlertActionForm | None = None) -> dict[str, Any]:
    window, errors = (_evidence_window(request) if request.method in ("GET", "HEAD")
                      else (window_get(tenant=request.tenant), []))
    evidence = selectors.alert_evidence_list(alert=alert, since=window.since)
    hidden = (0 if window.grey else
              selectors.alert_evidence_hidden_count(alert=alert, before=window.visible_since))
    if window.grey and any(window.pending(row.occurred_at) for row in evidence):
        # Only showing rows that are pending deletion is an access to the grey zone.
        grey_zone_access_record(tenant=request.tenant, actor=request.user,
                                client=client_info(request), view="alert_detail",
                                filters={"alert": str(alert.pk)})
    can_triage = request.user.can(Cap.ALERTS_TRIAGE)
    # Trust what the visible evidence shows, on the page and on the action alike.
    candidates = _trust_candidates(alert, [row for row in evidence
                                           if not window.pending(row.occurred_at)])
    if form is None and can_triage:
        form = AlertActionForm(assignees=selectors.assignee_choices(tenant=request.tenant),
                               initial={"assignee": alert.assignee_id})
    return {
        "alert": alert,
        "title": selectors.rule_title(alert.rule),
        "explained": selectors.alert_explained(alert),
        "figures": selectors.evidence_figures(
            alert.evidence if isinstance(alert.evidence, dict) else {}, alert.rule),
        "evidence": [(row, country_name(row.country) if row.country else "",
                      window.deleted_on(row.occurred_at) if window.grey else None,
                      window.pending(row.occurred_at)) for row in evidence],
        "errors": errors,
        "grey": window.grey,
        "grey_allowed": request.user.can(Cap.GREY_ZONE_VIEW),
        "grey_hidden": hidden,
        "visible_days": window.rules.visible_days,
        "timeline": selectors.alert_timeline(alert=alert),
        "form": form,
        "can_triage": can_triage,
        "can_view_logs": request.user.can(Cap.LOGS_VIEW),
        "unresolved": alert.is_unresolved,
        "can_acknowledge": alert.status == AlertStatus.OPEN,
        "trust_candidates": [(kind, TrustKind(kind).label, value)
                             for kind, value in candidates.items()],
        "display_tz": request.user.effective_timezone,
    }


@require_safe
@requires(Cap.ALERTS_VIEW)
def alert_detail_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get(tenant=request.tenant, pk=pk)
    return render(request, "alerts/alert_detail.html", _detail_context(request, alert))


_DONE = {
    "acknowledge": gettext_lazy("Alert acknowledged."),
    "resolve": gettext_lazy("Alert resolved."),
    "false_positive": gettext_lazy("Alert marked as a false positive."),
    "assign": gettext_lazy("Assignment saved."),
    "note": gettext_lazy("Note added."),
    "secure": gettext_lazy("The account is secured: every session ended, and a new password is "
                           "required at the next sign-in."),
}


@require_POST
@requires(Cap.ALERTS_TRIAGE)
def alert_action_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get(tenant=request.tenant, pk=pk)
    form = AlertActionForm(request.POST, assignees=selectors.assignee_choices(tenant=request.tenant))
    if form.is_valid():
        data, actor = form.cleaned_data, request.user
        action, note = data["action"], data.get("note") or ""
        try:
            if action == "acknowledge":
                services.alert_acknowledge(alert=alert, actor=actor, note=note)
            elif action in ("resolve", "false_positive"):
                visible = window_get(tenant=request.tenant).visible_since
                candidates = _trust_candidates(
                    alert, selectors.alert_evidence_list(alert=alert, since=visible))
                trusts = [services.TrustRequest(kind=kind, value=candidates[kind])
                          for kind in TrustKind.values
                          if data.get(f"trust_{kind}") and kind in candidates]
                change = (services.alert_resolve if action == "resolve"
                          else services.alert_mark_false_positive)
                change(alert=alert, actor=actor, note=note, trusts=trusts)
            elif action == "assign":
                services.alert_assign(alert=alert, actor=actor, assignee=data.get("assignee"),
                                      note=note)
            elif action == "secure":
                services.alert_person_secure(alert=alert, actor=actor, note=note)
            else:
                services.alert_note_add(alert=alert, actor=actor, note=note)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, str(_DONE[action]))
            return redirect("alert_detail", pk=alert.pk)
    return render(request, "alerts/alert_detail.html", _detail_context(request, alert, form),
                  status=400)


@requires(Cap.ALERTS_TRIAGE)  # outermost: a role without it is refused (403) before the method
@require_POST
def alerts_bulk_view(request: ConsoleRequest) -> HttpResponse:
    """First POST (from the list): the confirmation page. Second (confirm=1): the change."""
    ids = _posted_ids(request.POST)
    form = BulkForm(request.POST, ids=ids)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("alerts_list")
    alerts = selectors.alerts_by_ids(tenant=request.tenant, ids=form.cleaned_data["alerts"])
    if not alerts:
        messages.error(request, _("None of the selected alerts exist."))
        return redirect("alerts_list")
    action = form.cleaned_data["action"]
    if not form.cleaned_data.get("confirm"):
        return render(request, "alerts/bulk_confirm.html", {
            "alerts": [(alert, selectors.rule_title(alert.rule)) for alert in alerts],
            "action": action,
            "action_label": dict(BulkForm.base_fields["action"].choices)[action],  # type: ignore[attr-defined]
            "note": form.cleaned_data.get("note") or "",
            "display_tz": request.user.effective_timezone,
        })
    try:
        result = services.alerts_bulk_apply(tenant=request.tenant, actor=request.user,
                                            alerts=alerts, action=action,
                                            note=form.cleaned_data.get("note") or "")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("alerts_list")
    text = _("%(n)d alerts changed.") % {"n": result.changed}
    if result.skipped:
        text += " " + _("%(n)d were skipped: they were already past that status.") % {
            "n": result.skipped}
    messages.success(request, text)
    return redirect("alerts_list")


def _export_rows(alerts: Any, tz: str, window: Window | None = None) -> Iterator[tuple[Any, ...]]:
    """One row per alert; with the grey zone (``window``), the day its latest evidence will be
    deleted, for an alert last seen before the visible window (empty for the others)."""
    zone = zoneinfo.ZoneInfo(tz)
    for alert in alerts.iterator(chunk_size=EXPORT_CHUNK):
        row: tuple[Any, ...] = (
            alert.pk, alert.rule, alert.severity, alert.status, alert.mode,
            alert.user.email if alert.user else "",
            alert.assignee.email if alert.assignee else "",
            alert.first_seen.astimezone(zone).isoformat(),
            alert.last_seen.astimezone(zone).isoformat(), alert.count,
            selectors.alert_explained(alert))
        if window is not None:
            pending = window.pending(alert.last_seen)
            row += (window.deleted_on(alert.last_seen).isoformat() if pending else "",)
        yield row


@require_safe
@requires(Cap.ALERTS_VIEW)
def alerts_export_view(request: ConsoleRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered list as CSV, recorded as an ExportEvent (dataset "alerts") before any byte.

    Alerts last seen before the tenant's visible window are in the grey zone: left out, unless
    an owner or auditor asks for them (``grey=1``), which the ExportEvent's filters record and
    which adds the day each one's evidence will be deleted.
    """
    if not request.user.can(Cap.LOGS_EXPORT):
        raise PermissionDenied
    grey = request.GET.get(GREY_PARAM) == "1"
    if grey and not request.user.can(Cap.GREY_ZONE_VIEW):
        # Not quietly narrowed: a file of other rows than the ones asked for nobody checked.
        raise PermissionDenied(_("Records pending deletion are exported by owners and auditors "
                                 "only."))
    form = _filter_form(request)
    if form.is_bound and form.errors:
        return render(request, "alerts/export_error.html",
                      {"errors": [e for errs in form.errors.values() for e in errs]}, status=400)
    filters = form.filters()
    window = window_get(tenant=request.tenant, grey=grey)
    alerts = selectors.alerts_filtered(tenant=request.tenant, filters=filters,
                                       seen_since=window.since)
    tz = request.user.effective_timezone
    recorded = {**_params(form), **({GREY_PARAM: "1"} if window.grey else {})}
    columns = (*EXPORT_COLUMNS, "deleted_on") if window.grey else EXPORT_COLUMNS
    with transaction.atomic(durable=True):
        event = export_event_start(tenant=request.tenant, user=request.user,
                                   client=client_info(request), dataset="alerts", format="csv",
                                   filters=recorded)

    def stream() -> Iterator[bytes]:
        encoder = CsvEncoder()
        rows = byte_count = 0
        complete = False
        try:
            chunk = encoder.header(columns)
            byte_count += len(chunk)
            yield chunk
            batch: list[tuple[Any, ...]] = []
            for row in _export_rows(alerts, tz, window if window.grey else None):
                batch.append(row)
                if len(batch) >= EXPORT_CHUNK:
                    chunk = encoder.encode(batch)
                    rows, byte_count = rows + len(batch), byte_count + len(chunk)
                    batch = []
                    yield chunk
            if batch:
                chunk = encoder.encode(batch)
                rows, byte_count = rows + len(batch), byte_count + len(chunk)
                yield chunk
            complete = True
        finally:
            export_event_complete(event=event, row_count=rows, byte_count=byte_count,
                                  complete=complete)

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="alerts-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- Rule settings ------------------------------------------------------------------------------


def _rule_form(request: ConsoleRequest, code: str, setting: Any, data: Any = None) -> RuleSettingForm:
    module = RULES[code]
    if setting is not None:
        initial: dict[str, Any] = {"enabled": setting.enabled, "mode": setting.mode,
                                   "severity": setting.severity}
        saved = setting.params or {}
    else:
        initial = {"enabled": True, "mode": "alert", "severity": str(module.DEFAULT_SEVERITY)}
        saved = {}
    defaults = module.params_from({})
    for name in module.PARAM_FIELDS:
        initial[f"p_{name}"] = saved.get(name, _param_initial(getattr(defaults, name, None)))
    form = RuleSettingForm(data, rule=code, initial=initial, prefix=code)
    if not request.user.can(Cap.ALERTS_TRIAGE):  # auditors read the settings
        for field in form.fields.values():
            field.disabled = True
    return form


def _param_initial(value: Any) -> Any:
    if hasattr(value, "strftime"):
        return value.strftime("%H:%M")
    return value


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Cap.ALERTS_VIEW)
def alert_rules_view(request: ConsoleRequest) -> HttpResponse:
    saved = selectors.rule_settings_map(tenant=request.tenant)
    posted = request.POST.get("rule") if request.method == "POST" else None
    if request.method == "POST":
        if not request.user.can(Cap.ALERTS_TRIAGE):
            raise PermissionDenied
        if posted not in RULES:
            messages.error(request, _("Unknown rule."))
            return redirect("alert_rules")
    forms_by_rule: list[tuple[str, str, RuleSettingForm]] = []
    status = 200
    for code, module in RULES.items():
        form = _rule_form(request, code, saved.get(code),
                          request.POST if code == posted else None)
        if code == posted:
            if form.is_valid():
                params = form.params()
                if not form.errors:
                    try:
                        services.rule_setting_save(
                            tenant=request.tenant, actor=request.user, rule=code,
                            enabled=form.cleaned_data["enabled"], mode=form.cleaned_data["mode"],
                            severity=form.cleaned_data["severity"], params=params)
                    except ValidationError as exc:
                        form.add_param_errors(exc)
                    else:
                        messages.success(request, _("Settings of “%(rule)s” saved.")
                                         % {"rule": module.TITLE})
                        return redirect(reverse("alert_rules") + f"#rule-{code}")
            status = 400
        forms_by_rule.append((code, str(module.TITLE), form))
    refused = str(RULES[posted].TITLE) if status == 400 and posted else None
    return render(request, "alerts/alert_rules.html", {
        "rules": forms_by_rule, "can_edit": request.user.can(Cap.ALERTS_TRIAGE),
        "posted": posted, "refused": refused}, status=status)


# --- Trusts -------------------------------------------------------------------------------------


@require_safe
@requires(Cap.ALERTS_VIEW)
def alert_trusts_view(request: ConsoleRequest) -> HttpResponse:
    show_revoked = request.GET.get("revoked") == "1"
    trusts = selectors.trusts_list(tenant=request.tenant, active_only=not show_revoked)[:500]
    return render(request, "alerts/trusts.html", {
        "trusts": trusts, "show_revoked": show_revoked,
        "can_triage": request.user.can(Cap.ALERTS_TRIAGE),
        "display_tz": request.user.effective_timezone,
    })


@require_POST
@requires(Cap.ALERTS_TRIAGE)
def trust_revoke_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    trust = selectors.trust_get(tenant=request.tenant, pk=pk)
    services.trust_revoke(trust=trust, actor=request.user)
    messages.success(request, _("No longer trusted: the rules will look at it again."))
    return redirect("alert_trusts")


# --- The digest opt-out (a small page under /alerts/, linked from the profile) -----------------


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Cap.ALERTS_TRIAGE)
def alert_digest_view(request: ConsoleRequest) -> HttpResponse:
    opted_out = selectors.digest_opted_out(user=request.user)
    form = DigestForm(request.POST if request.method == "POST" else None,
                      initial={"digest": not opted_out})
    if request.method == "POST" and form.is_valid():
        services.digest_opt_out_set(user=request.user, opted_out=not form.cleaned_data["digest"])
        messages.success(request, _("Your alert e-mail preference is saved."))
        return redirect("alert_digest")
    return render(request, "alerts/digest.html", {"form": form, "opted_out": opted_out})
