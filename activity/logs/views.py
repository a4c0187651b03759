"""The log pages: sign-in log, its detail and per-person view, export log, audit trail, and each
person's own sign-ins and exports.

Views stay thin: parse the filters (activity.filters), call one selector (activity.selectors),
page it by keyset (activity.keyset) and render, with the rows shown by activity.logs.rows. Every
page is GET-only: the record is read here, never changed.

The grey zone: rows older than the tenant's ``visible_days`` are hidden. A reader holding
Cap.GREY_ZONE_VIEW (owners, auditors) may tick "include records pending deletion" (``grey=1``):
the page then reads back to the purge date, shows the day each row will be deleted, and the
access itself is recorded as an audit entry (``grey_zone_access_record``), once per page shown.
Anyone else asking for it gets the default window and a message. One's own history pages never
reach the grey zone (an employee's full copy is "download my data").
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Model, QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.models import User
from accounts.requests import ConsoleRequest
from activity import selectors, services
from activity.capture import client_info
from activity.filters import (
    ParsedFilters,
    audit_actions,
    audit_filters_from_query,
    audited_object_types,
    export_filters_from_query,
    login_filters_from_query,
)
from activity.keyset import (
    COUNT_CAP,
    SIZE_DEFAULT,
    CursorInvalid,
    count_hint,
    page_fetch,
    size_clean,
)
from activity.logs.audit_pages import page_action_completed
from activity.logs.rows import audit_rows, export_rows, login_choices, signin_rows
from activity.models import ExportStatus, Outcome
from activity.selectors import Window
from tenants.access import get_for_tenant_or_404, requires
from tenants.roles import Cap

PAGE_SIZES = (25, 50, 100, 200)


def _url_or_none(name: str, **kwargs: Any) -> str | None:
    # The streaming exports are another module's URLs; a deployment (or a branch) without them
    # simply shows no export links.
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def _query(params: dict[str, str], **extra: str | int | None) -> str:
    merged = {**params, **{k: str(v) for k, v in extra.items() if v not in (None, "")}}
    return urlencode(merged)


def _export_links(name: str, params: dict[str, str]) -> list[tuple[str, str]]:
    base = _url_or_none(name)
    if base is None:
        return []
    return [
        (_("CSV"), f"{base}?{_query(params, format='csv')}"),
        (_("CSV for Excel"), f"{base}?{_query(params, format='csv', bom=1)}"),
        (_("JSON Lines"), f"{base}?{_query(params, format='jsonl')}"),
    ]


GREY_PARAM = "grey"


def _window(request: ConsoleRequest, *, view: str, parsed: ParsedFilters[Any],
            own: bool = False) -> tuple[Window, list[str]]:
    """The page's reading window; with a permitted ``grey=1``, the grey zone too, recorded."""
    asked = request.GET.get(GREY_PARAM) == "1"
    allowed = not own and request.user.can(Cap.GREY_ZONE_VIEW)
    window = selectors.window_get(tenant=request.tenant, grey=asked and allowed)
    errors: list[str] = []
    if asked and not allowed:
        errors.append(_("Records pending deletion are shown to owners and auditors only, and "
                        "never on one's own history; showing the last %(days)d days.")
                      % {"days": window.rules.visible_days})
    if window.grey:
        services.grey_zone_access_record(tenant=request.tenant, actor=request.user,
                                         client=client_info(request), view=view,
                                         filters=parsed.as_dict())
    return window, errors


def _paged(request: ConsoleRequest, queryset: QuerySet[Any], parsed: ParsedFilters[Any],
           *, window: Window, window_errors: list[str] | None = None,
           extra_params: dict[str, str] | None = None, own: bool = False) -> dict[str, Any]:
    """Keyset page, count hint, messages and the links that keep the filters."""
    size = size_clean(request.GET.get("size"))
    errors = [*(window_errors or []), *parsed.errors]
    grey = {GREY_PARAM: "1"} if window.grey else {}
    cursor = request.GET.get("cursor") or None
    # A first page's queries count its rows too (up to the cap): one round trip fewer.
    try:
        page = page_fetch(queryset, cursor=cursor, size=size,
                          count_cap=COUNT_CAP if cursor is None else None)
    except CursorInvalid:
        errors.append(_("That page link is not valid (it may have been cut or changed); showing "
                        "the newest entries."))
        page, cursor = page_fetch(queryset, cursor=None, size=size, count_cap=COUNT_CAP), None
    params = {**parsed.as_dict(), **grey, **(extra_params or {})}
    if size != SIZE_DEFAULT:
        params["size"] = str(size)
    return {
        **_time_bounds(parsed, params),
        "page": page,
        "rows": page.rows,
        # Counted on the first page only: deeper pages were reached from it and need no recount.
        "count": count_hint(queryset, first_page=page) if cursor is None else None,
        "errors": errors,
        "params": params,
        # What an export of this view takes: no size/cursor, the grey zone if shown.
        "filter_params": {**parsed.as_dict(), **grey},
        "filters": parsed.filters,
        "filtered": parsed.active,
        "size": size,
        "page_sizes": PAGE_SIZES,
        "newer_url": f"?{_query(params, cursor=page.prev_cursor)}" if page.prev_cursor else None,
        "older_url": f"?{_query(params, cursor=page.next_cursor)}" if page.next_cursor else None,
        "first_url": f"?{_query(params)}",
        "visible_days": window.rules.visible_days,
        "purge_days": window.rules.purge_days,
        "audit_days": window.rules.audit_days,
        "window": window,
        "grey": window.grey,
        "grey_allowed": not own and request.user.can(Cap.GREY_ZONE_VIEW),
    }


def _time_bounds(parsed: ParsedFilters[Any], params: dict[str, str]) -> dict[str, Any]:
    """The exact times the page is narrowed to (``since``/``until``), as the page's zone reads."""
    dates = parsed.filters.dates
    if dates.since is None and dates.until is None:
        return {"time_bounds": None}
    zone = ZoneInfo(dates.tz)

    def shown(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "…"

    return {
        "time_bounds": {"since": shown(dates.since), "until": shown(dates.until)},
        "without_time_url": "?" + _query({k: v for k, v in params.items()
                                          if k not in ("since", "until")}),
    }


# --- Sign-in log --------------------------------------------------------------------------------


def _signin_log(request: ConsoleRequest, *, template: str, view: str,
                person: Model | None = None, **context: Any) -> HttpResponse:
    tenant = request.tenant
    parsed = login_filters_from_query(tenant=tenant, params=request.GET)
    if person is not None:
        parsed = ParsedFilters(filters=replace(parsed.filters, person=person.pk),
                               errors=parsed.errors)
    window, window_errors = _window(request, view=view, parsed=parsed)
    events = selectors.login_events_filtered(tenant=tenant, filters=parsed.filters,
                                             since=window.since)
    ctx = _paged(request, events, parsed, window=window, window_errors=window_errors)
    person_id = parsed.filters.person
    ctx.update(login_choices(ctx["params"]))
    ctx.update(
        display_tz=tenant.timezone,
        signin_rows=signin_rows(ctx["rows"], display_tz=tenant.timezone,
                                window=window if window.grey else None),
        person=person,
        person_label=(str(person) if person is not None else
                      selectors.person_label(tenant=tenant, pk=person_id) if person_id else None),
        without_person_url="?" + _query({k: v for k, v in ctx["params"].items()
                                         if k != "person"}),
        export_links=(_export_links("signin_log_export", ctx["filter_params"])
                      if request.user.can(Cap.LOGS_EXPORT) else []),
        **context,
    )
    return render(request, template, ctx)


@require_safe
@requires(Cap.LOGS_VIEW)
def signin_log_view(request: ConsoleRequest) -> HttpResponse:
    return _signin_log(request, template="activity/signin_log.html", view="signin_log")


@require_safe
@requires(Cap.LOGS_VIEW)
def person_signins_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    person = get_for_tenant_or_404(User.objects.all(), tenant=request.tenant, pk=pk)
    return _signin_log(request, template="activity/person_signins.html", view="person_signins",
                       person=person)


@require_safe
@requires(Cap.LOGS_VIEW)
def signin_log_detail_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    asked = request.GET.get(GREY_PARAM) == "1" and request.user.can(Cap.GREY_ZONE_VIEW)
    window = selectors.window_get(tenant=request.tenant, grey=asked)
    event = selectors.login_event_get(tenant=request.tenant, pk=pk, since=window.since)
    pending = window.pending(event.occurred_at)
    grey = {GREY_PARAM: "1"} if window.grey else {}
    if pending:  # only opening a row that is pending deletion is an access to the grey zone
        services.grey_zone_access_record(tenant=request.tenant, actor=request.user,
                                         client=client_info(request), view="signin_detail",
                                         filters={"event": str(event.pk)})
    return render(request, "activity/signin_detail.html", {
        "event": event,
        "pending": pending,
        "deleted_on": window.deleted_on(event.occurred_at) if pending else None,
        "display_tz": request.tenant.timezone,
        "by_ip_url": "?" + urlencode({"ip": event.ip, **grey}),
        "by_person_url": "?" + urlencode({"person": event.user_id}) if event.user_id else None,
        "by_address_url": "?" + urlencode({"address": event.attempted_login, "exact": "1",
                                           **grey}),
        "can_view_people": request.user.can(Cap.PEOPLE_VIEW),
    })


# --- Export log ---------------------------------------------------------------------------------


@require_safe
@requires(Cap.LOGS_VIEW)
def export_log_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    parsed = export_filters_from_query(tenant=tenant, params=request.GET)
    window, window_errors = _window(request, view="export_log", parsed=parsed)
    exports = selectors.export_events_filtered(tenant=tenant, filters=parsed.filters,
                                               since=window.since)
    ctx = _paged(request, exports, parsed, window=window, window_errors=window_errors)
    person_id = parsed.filters.person
    ctx.update(
        export_rows=export_rows(ctx["rows"], tenant=tenant, window=window if window.grey else None),
        statuses=ExportStatus.choices,
        display_tz=tenant.timezone,
        person_label=selectors.person_label(tenant=tenant, pk=person_id) if person_id else None,
        without_person_url="?" + _query({k: v for k, v in ctx["params"].items()
                                         if k != "person"}),
        export_links=(_export_links("export_log_export", ctx["filter_params"])
                      if request.user.can(Cap.LOGS_EXPORT) else []),
    )
    return render(request, "activity/export_log.html", ctx)


# --- Audit trail --------------------------------------------------------------------------------


@require_safe
@requires(Cap.AUDIT_VIEW)
def audit_trail_view(request: ConsoleRequest) -> HttpResponse:
    tenant = request.tenant
    parsed = audit_filters_from_query(tenant=tenant, params=request.GET)
    window, window_errors = _window(request, view="audit_trail", parsed=parsed)
    entries = selectors.audit_entries_filtered(tenant=tenant, filters=parsed.filters,
                                               since=window.audit_since)
    ctx = _paged(request, entries, parsed, window=window, window_errors=window_errors)
    page = page_action_completed(entries, ctx["page"])  # the page ends between two actions
    if page is not ctx["page"]:
        ctx.update(page=page, rows=page.rows, older_url=(
            f"?{_query(ctx['params'], cursor=page.next_cursor)}" if page.next_cursor else None))
    ctx.update(
        audit_rows=audit_rows(ctx["rows"], tenant=tenant, tz=tenant.timezone,
                              window=window if window.grey else None),
        person_label=(selectors.person_label(tenant=tenant, pk=parsed.filters.person)
                      if parsed.filters.person is not None else None),
        without_person_url="?" + urlencode({k: v for k, v in ctx["filter_params"].items()
                                            if k != "person"}),
        purge_days=window.rules.audit_days,  # the audit trail's grey zone ends at its own date
        actors=selectors.audit_actor_choices(tenant=tenant, include=parsed.filters.actor),
        object_types=list(audited_object_types().items()),
        actions=list(audit_actions().items()),
        display_tz=tenant.timezone,
        export_links=(_export_links("audit_trail_export", ctx["filter_params"])
                      if request.user.can(Cap.LOGS_EXPORT) else []),
    )
    return render(request, "activity/audit_trail.html", ctx)


# --- A person's own history ---------------------------------------------------------------------


def _own(parsed: ParsedFilters[Any], user: Any) -> ParsedFilters[Any]:
    # The person filter is forced, whatever the URL says: these pages show one's own rows only.
    return ParsedFilters(filters=replace(parsed.filters, person=user.pk), errors=parsed.errors)


def _without_person(ctx: dict[str, Any]) -> None:
    # The forced person id is implied by the page; keep it out of links and export URLs.
    params = {k: v for k, v in ctx["params"].items() if k != "person"}
    ctx["params"] = params
    ctx["filter_params"] = {k: v for k, v in ctx["filter_params"].items() if k != "person"}
    page = ctx["page"]
    ctx["newer_url"] = f"?{_query(params, cursor=page.prev_cursor)}" if page.prev_cursor else None
    ctx["older_url"] = f"?{_query(params, cursor=page.next_cursor)}" if page.next_cursor else None
    ctx["first_url"] = f"?{_query(params)}"
    if ctx.get("time_bounds"):
        ctx["without_time_url"] = "?" + _query({k: v for k, v in params.items()
                                                if k not in ("since", "until")})


@require_safe
@requires(Cap.SELF_SERVICE)
def my_signins_view(request: ConsoleRequest) -> HttpResponse:
    user = request.user
    tz = user.effective_timezone
    parsed = _own(login_filters_from_query(tenant=request.tenant, params=request.GET, tz=tz), user)
    window, window_errors = _window(request, view="my_signins", parsed=parsed, own=True)
    events = selectors.login_events_filtered(tenant=request.tenant, filters=parsed.filters,
                                             since=window.since)
    ctx = _paged(request, events, parsed, window=window, window_errors=window_errors, own=True)
    _without_person(ctx)
    ctx.update(
        display_tz=tz,
        outcomes=Outcome.choices,
        export_links=_export_links("my_signins_export", ctx["filter_params"]),
    )
    return render(request, "activity/my_signins.html", ctx)


@require_safe
@requires(Cap.SELF_SERVICE)
def my_exports_view(request: ConsoleRequest) -> HttpResponse:
    user = request.user
    tz = user.effective_timezone
    parsed = _own(export_filters_from_query(tenant=request.tenant, params=request.GET, tz=tz), user)
    window, window_errors = _window(request, view="my_exports", parsed=parsed, own=True)
    exports = selectors.export_events_filtered(tenant=request.tenant, filters=parsed.filters,
                                               since=window.since)
    ctx = _paged(request, exports, parsed, window=window, window_errors=window_errors, own=True)
    _without_person(ctx)
    ctx.update(
        display_tz=tz,
        export_rows=export_rows(ctx["rows"], tenant=request.tenant),
        statuses=ExportStatus.choices,
        export_links=_export_links("my_exports_export", ctx["filter_params"]),
    )
    return render(request, "activity/my_exports.html", ctx)


__all__ = [
    "audit_trail_view",
    "export_log_view",
    "my_exports_view",
    "my_signins_view",
    "person_signins_view",
    "signin_log_detail_view",
    "signin_log_view",
]
