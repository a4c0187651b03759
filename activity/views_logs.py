"""The log pages: sign-in log, its detail and per-person view, export log, audit trail, and each
person's own sign-ins and exports.

Views stay thin: parse the filters (activity.filters), call one selector (activity.selectors),
page it by keyset (activity.keyset) and render. Every page is GET-only: the record is read here,
never changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from html import escape
from typing import Any, cast
from urllib.parse import urlencode

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.models import User
from activity import selectors
from activity.capture.types import DeviceType
from activity.filters import (
    MFA_NONE,
    ParsedFilters,
    audit_actions,
    audit_filters_from_query,
    audited_object_types,
    export_filters_from_query,
    filters_describe,
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
from activity.models import AuditLogEntry, ExportStatus, MfaMethod, Outcome, Reason
from tenants.access import get_for_tenant_or_404, requires
from tenants.models import Tenant
from tenants.roles import Cap

PAGE_SIZES = (25, 50, 100, 200)


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]  # TenantMiddleware sets it


def _user(request: HttpRequest) -> User:
    # requires() lets only a signed-in person of an active tenant reach these views.
    return cast(User, request.user)


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


def _paged(request: HttpRequest, queryset: QuerySet[Any], parsed: ParsedFilters[Any],
           *, extra_params: dict[str, str] | None = None) -> dict[str, Any]:
    """Keyset page, count hint, messages and the links that keep the filters."""
    size = size_clean(request.GET.get("size"))
    errors = list(parsed.errors)
    cursor = request.GET.get("cursor") or None
    # A first page's queries count its rows too (up to the cap): one round trip fewer.
    try:
        page = page_fetch(queryset, cursor=cursor, size=size,
                          count_cap=COUNT_CAP if cursor is None else None)
    except CursorInvalid:
        errors.append(_("That page link is not valid (it may have been cut or changed); showing "
                        "the newest entries."))
        page, cursor = page_fetch(queryset, cursor=None, size=size, count_cap=COUNT_CAP), None
    params = {**parsed.as_dict(), **(extra_params or {})}
    if size != SIZE_DEFAULT:
        params["size"] = str(size)
    return {
        "page": page,
        "rows": page.rows,
        # Counted on the first page only: deeper pages were reached from it and need no recount.
        "count": count_hint(queryset, first_page=page) if cursor is None else None,
        "errors": errors,
        "params": params,
        "filter_params": parsed.as_dict(),  # what an export of this view takes: no size/cursor
        "filters": parsed.filters,
        "filtered": parsed.active,
        "size": size,
        "page_sizes": PAGE_SIZES,
        "newer_url": f"?{_query(params, cursor=page.prev_cursor)}" if page.prev_cursor else None,
        "older_url": f"?{_query(params, cursor=page.next_cursor)}" if page.next_cursor else None,
        "first_url": f"?{_query(params)}",
        "visible_days": selectors.visible_days(tenant=_tenant(request)),
    }


def _options(choices: Any, selected: str | None) -> SafeString:
    """The ``<option>`` elements of ``choices``, ``selected`` marked, escaped as the template would.

    Built here rather than by a template loop: the sign-in filters' 36 options were a third of the
    page's remaining rendering time (a lazy label, a comparison and two lookups each).
    """
    return SafeString("".join(  # nosec B703  # every value is escaped below
        f'<option value="{escape(str(value))}"{" selected" if value == selected else ""}>'
        f"{escape(str(label))}</option>" for value, label in choices))


def _login_choices(params: dict[str, str]) -> dict[str, Any]:
    mfa_methods = [(MFA_NONE, MfaMethod.NONE.label),
                   *[(v, label) for v, label in MfaMethod.choices if v]]
    return {
        "outcome_options": _options(Outcome.choices, params.get("outcome")),
        "reason_options": _options(Reason.choices, params.get("reason")),
        "device_options": _options(DeviceType.choices, params.get("device")),
        "mfa_options": _options(mfa_methods, params.get("mfa")),
    }


# --- Sign-in log --------------------------------------------------------------------------------

# One row of the sign-in table (templates/activity/includes/signin_table.html), every value escaped
# as the template's autoescaping would. The engine took 7-8 ms for the 50 rows of a page (a URL
# reversal, a date filter and 17 variable lookups per row, bench/log_page on 2 vCPUs); this takes
# a tenth of that. test_log_pages.py checks it against the template loop it replaced.
_SIGNIN_ROW = (
    '\n    <tr data-testid="signin-row" data-event="{pk}">\n'
    '      <td class="nowrap"><a href="{detail}">{at}</a></td>\n'
    "      <td>{who}</td>\n"
    '      <td class="mono">{ip}</td>\n'
    "      <td>{country}</td>\n"
    "      <td>{browser} {browser_version}</td>\n"
    "      <td>{os} {os_version}</td>\n"
    "      <td>{device}</td>\n"
    '      <td><span class="badge outcome-{outcome}">{outcome_label}</span></td>\n'
    "      <td>{reason}</td>\n"
    "      <td>{mfa}</td>\n"
    "    </tr>\n  "
)
_PK_PLACEHOLDER = 987654321


def _signin_rows(rows: list[Any], *, display_tz: str | None) -> list[SafeString]:
    """The sign-in table's rows as HTML, times in ``display_tz`` (as ``{% timezone %}`` does)."""
    detail_head, _sep, detail_tail = escape(
        reverse("signin_log_detail", args=[_PK_PLACEHOLDER])).rpartition(str(_PK_PLACEHOLDER))
    with timezone.override(display_tz):
        tz = timezone.get_current_timezone()
    html_rows = []
    for e in rows:
        at = e.occurred_at.astimezone(tz)
        user = e.user
        if user is None:
            who = escape(e.attempted_login or "—")
        else:
            who = f'<a href="?person={e.user_id}">{escape(str(user))}</a>'
            if user.email != e.attempted_login:
                who += f'<br><span class="muted">{escape(str(e.attempted_login))}</span>'
        html_rows.append(SafeString(_SIGNIN_ROW.format(  # nosec B703  # every value is escaped below
            pk=e.pk, detail=f"{detail_head}{e.pk}{detail_tail}",
            at=f"{at.year:04d}-{at.month:02d}-{at.day:02d} "
               f"{at.hour:02d}:{at.minute:02d}:{at.second:02d}",
            who=who, ip=escape(str(e.ip)), country=escape(e.country or "—"),
            browser=escape(e.browser_family or "—"), browser_version=escape(str(e.browser_version)),
            os=escape(e.os_family or "—"), os_version=escape(str(e.os_version)),
            device=escape(str(e.get_device_type_display())), outcome=escape(str(e.outcome)),
            outcome_label=escape(str(e.get_outcome_display())),
            reason=escape(str(e.get_reason_display() or "—")),
            mfa=escape(str(e.get_mfa_method_display())) if e.mfa_method else "—",
        )))
    return html_rows


def _signin_log(request: HttpRequest, *, template: str, person: Model | None = None,
                **context: Any) -> HttpResponse:
    tenant = _tenant(request)
    parsed = login_filters_from_query(tenant=tenant, params=request.GET)
    if person is not None:
        parsed = ParsedFilters(filters=replace(parsed.filters, person=person.pk),
                               errors=parsed.errors)
    events = selectors.login_events_filtered(tenant=tenant, filters=parsed.filters)
    ctx = _paged(request, events, parsed)
    person_id = parsed.filters.person
    ctx.update(_login_choices(ctx["params"]))
    ctx.update(
        display_tz=tenant.timezone,
        signin_rows=_signin_rows(ctx["rows"], display_tz=tenant.timezone),
        person=person,
        person_label=(str(person) if person is not None else
                      selectors.person_label(tenant=tenant, pk=person_id) if person_id else None),
        without_person_url="?" + _query({k: v for k, v in ctx["params"].items()
                                         if k != "person"}),
        export_links=(_export_links("signin_log_export", ctx["filter_params"])
                      if _user(request).can(Cap.LOGS_EXPORT) else []),
        **context,
    )
    return render(request, template, ctx)


@require_safe
@requires(Cap.LOGS_VIEW)
def signin_log_view(request: HttpRequest) -> HttpResponse:
    return _signin_log(request, template="activity/signin_log.html")


@require_safe
@requires(Cap.LOGS_VIEW)
def person_signins_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_for_tenant_or_404(User.objects.all(), tenant=_tenant(request), pk=pk)
    return _signin_log(request, template="activity/person_signins.html", person=person)


@require_safe
@requires(Cap.LOGS_VIEW)
def signin_log_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.login_event_get(tenant=_tenant(request), pk=pk)
    return render(request, "activity/signin_detail.html", {
        "event": event,
        "display_tz": _tenant(request).timezone,
        "by_ip_url": "?" + urlencode({"ip": event.ip}),
        "by_person_url": "?" + urlencode({"person": event.user_id}) if event.user_id else None,
        "by_address_url": "?" + urlencode({"address": event.attempted_login, "exact": "1"}),
        "can_view_people": _user(request).can(Cap.PEOPLE_VIEW),
    })


# --- Export log ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportRow:
    event: Any
    filters: list[tuple[str, str]]


def _export_rows(rows: list[Any]) -> list[ExportRow]:
    return [ExportRow(event=row, filters=filters_describe(row.filters)) for row in rows]


@require_safe
@requires(Cap.LOGS_VIEW)
def export_log_view(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    parsed = export_filters_from_query(tenant=tenant, params=request.GET)
    exports = selectors.export_events_filtered(tenant=tenant, filters=parsed.filters)
    ctx = _paged(request, exports, parsed)
    person_id = parsed.filters.person
    ctx.update(
        export_rows=_export_rows(ctx["rows"]),
        statuses=ExportStatus.choices,
        display_tz=tenant.timezone,
        person_label=selectors.person_label(tenant=tenant, pk=person_id) if person_id else None,
        without_person_url="?" + _query({k: v for k, v in ctx["params"].items()
                                         if k != "person"}),
        export_links=(_export_links("export_log_export", ctx["filter_params"])
                      if _user(request).can(Cap.LOGS_EXPORT) else []),
    )
    return render(request, "activity/export_log.html", ctx)


# --- Audit trail --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRow:
    entry: AuditLogEntry
    actor: str
    object_type: str
    changes: list[tuple[str, str, str]]  # (field label, old, new)


def _change(model: type[Model] | None, name: str, value: Any) -> tuple[str, str, str] | None:
    """(label, old, new) of one recorded change; None for what is not a change worth showing."""
    field = None
    if model is not None:
        try:
            field = model._meta.get_field(name)
        except Exception:  # FieldDoesNotExist: a field since removed; show it by its name
            field = None
    if field is not None and field.auto_created and not field.concrete:
        return None  # a reverse relation auditlog lists on create ("x.None"): not a change
    old, new = _change_values(value)
    choices = dict(getattr(field, "flatchoices", None) or [])
    if choices:
        old, new = (str(choices.get(old, old)), str(choices.get(new, new)))
    label = str(getattr(field, "verbose_name", name)).capitalize() if field is not None else name
    return label, old, new


def _change_values(value: Any) -> tuple[str, str]:
    if isinstance(value, list | tuple) and len(value) == 2:
        old, new = value
        return ("—" if old in (None, "None", "") else str(old),
                "—" if new in (None, "None", "") else str(new))
    if isinstance(value, dict):  # many-to-many: {"type": "m2m", "operation": ..., "objects": [...]}
        objects = ", ".join(str(o) for o in value.get("objects", []))
        return (str(value.get("operation", "")), objects)
    return ("", str(value))


def _audit_rows(entries: list[AuditLogEntry]) -> list[AuditRow]:
    rows = []
    for entry in entries:
        model = entry.content_type.model_class() if entry.content_type_id else None
        changes = entry.changes if isinstance(entry.changes, dict) else {}
        shown = (_change(model, str(name), value) for name, value in changes.items())
        rows.append(AuditRow(
            entry=entry,
            actor=str(entry.actor) if entry.actor else (entry.actor_email or _("System")),
            object_type=(str(model._meta.verbose_name).capitalize() if model is not None
                         else entry.content_type.model),
            changes=[change for change in shown if change is not None],
        ))
    return rows


@require_safe
@requires(Cap.AUDIT_VIEW)
def audit_trail_view(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    parsed = audit_filters_from_query(tenant=tenant, params=request.GET)
    entries = selectors.audit_entries_filtered(tenant=tenant, filters=parsed.filters)
    ctx = _paged(request, entries, parsed)
    ctx.update(
        audit_rows=_audit_rows(ctx["rows"]),
        actors=selectors.audit_actor_choices(tenant=tenant, include=parsed.filters.actor),
        object_types=list(audited_object_types().items()),
        actions=list(audit_actions().items()),
        display_tz=tenant.timezone,
        export_links=(_export_links("audit_trail_export", ctx["filter_params"])
                      if _user(request).can(Cap.LOGS_EXPORT) else []),
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


@require_safe
@requires(Cap.SELF_SERVICE)
def my_signins_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    tz = user.effective_timezone
    parsed = _own(login_filters_from_query(tenant=_tenant(request), params=request.GET, tz=tz), user)
    events = selectors.login_events_filtered(tenant=_tenant(request), filters=parsed.filters)
    ctx = _paged(request, events, parsed)
    _without_person(ctx)
    ctx.update(
        display_tz=tz,
        outcomes=Outcome.choices,
        export_links=_export_links("my_signins_export", ctx["filter_params"]),
    )
    return render(request, "activity/my_signins.html", ctx)


@require_safe
@requires(Cap.SELF_SERVICE)
def my_exports_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    tz = user.effective_timezone
    parsed = _own(export_filters_from_query(tenant=_tenant(request), params=request.GET, tz=tz), user)
    exports = selectors.export_events_filtered(tenant=_tenant(request), filters=parsed.filters)
    ctx = _paged(request, exports, parsed)
    _without_person(ctx)
    ctx.update(
        display_tz=tz,
        export_rows=_export_rows(ctx["rows"]),
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
