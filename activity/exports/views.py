"""The streaming export views: the filtered sign-in log, export log, audit trail and one's own
history as CSV or JSON Lines.

Thin on purpose: parse the same filters as the log page (``activity.filters``), take the same
tenant-scoped, visible-window queryset (``activity.selectors``), and hand it to
``activity.exports.export_stream_open``, which records the export before the first byte.

A request the page would have corrected (a malformed filter, an unknown format) is refused with
a 400 page and nothing recorded or written: an export of rows other than the ones asked for would
be a file nobody checked, and its record would not say what it holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.requests import ConsoleRequest
from activity import selectors
from activity.capture import client_info
from activity.exports import (
    AUDIT_TRAIL,
    EXPORT_LOG,
    MY_EXPORTS,
    MY_SIGNINS,
    SIGNIN_LOG,
    Dataset,
    ExportFormat,
    export_response,
    export_stream_open,
)
from activity.filters import (
    ParsedFilters,
    audit_filters_from_query,
    export_filters_from_query,
    login_filters_from_query,
)
from tenants.access import requires
from tenants.roles import Cap

ERROR_TEMPLATE = "activity/exports/export_error.html"
GREY_PARAM = "grey"  # as on the log pages: include the records pending deletion


def _refuse(request: HttpRequest, errors: list[str]) -> HttpResponse:
    return render(request, ERROR_TEMPLATE, {"errors": errors}, status=400)


def _format(request: HttpRequest) -> ExportFormat | None:
    value = request.GET.get("format", "")
    try:
        return ExportFormat(value)
    except ValueError:
        return None


def _export(
    request: HttpRequest,
    *,
    dataset: Dataset,
    parse: Callable[..., ParsedFilters[Any]],
    select: Callable[..., QuerySet[Any]],
    tz: str,
    own: bool = False,
) -> HttpResponseBase:
    tenant = request.tenant  # type: ignore[attr-defined]
    user = request.user
    errors: list[str] = []
    fmt = _format(request)
    if fmt is None:
        errors.append(_("Choose the export format: csv or jsonl."))
    parsed = parse(tenant=tenant, params=request.GET, tz=tz)
    errors.extend(parsed.errors)
    grey = request.GET.get(GREY_PARAM) == "1"
    if grey and (own or not user.can(Cap.GREY_ZONE_VIEW)):  # type: ignore[union-attr]
        # Not quietly narrowed: a file of other rows than the ones asked for nobody checked.
        raise PermissionDenied(_("Records pending deletion are exported by owners and auditors "
                                 "only, and never from one's own history."))
    if errors:
        return _refuse(request, errors)
    assert fmt is not None
    if own:
        # One's own rows, whatever the URL says about the person.
        parsed = ParsedFilters(filters=dataclasses.replace(parsed.filters, person=user.pk),
                               errors=parsed.errors)
    # The selectors bound every queryset to the tenant and its visible window; an export of the
    # grey zone reads back to the purge date and says so in its ExportEvent's filters.
    window = selectors.window_get(tenant=tenant, grey=grey)
    queryset = select(tenant=tenant, filters=parsed.filters,
                      since=window.audit_since if dataset is AUDIT_TRAIL else window.since)
    if own:
        queryset = queryset.filter(user=user)
    recorded = {**parsed.as_dict(), **({GREY_PARAM: "1"} if window.grey else {})}
    stream = export_stream_open(
        tenant=tenant, actor=user, client=client_info(request), dataset=dataset,  # type: ignore[arg-type]
        queryset=queryset, fmt=fmt, filters=recorded, tz=tz,
        bom=request.GET.get("bom") == "1",
    )
    return export_response(stream, tenant=tenant, dataset=dataset, fmt=fmt)


@requires(Cap.LOGS_EXPORT)
@require_GET
def signin_log_export(request: ConsoleRequest) -> HttpResponseBase:
    return _export(request, dataset=SIGNIN_LOG, parse=login_filters_from_query,
                   select=selectors.login_events_filtered, tz=request.tenant.timezone)


@requires(Cap.LOGS_EXPORT)
@require_GET
def export_log_export(request: ConsoleRequest) -> HttpResponseBase:
    return _export(request, dataset=EXPORT_LOG, parse=export_filters_from_query,
                   select=selectors.export_events_filtered, tz=request.tenant.timezone)


@requires(Cap.LOGS_EXPORT)
@require_GET
def audit_trail_export(request: ConsoleRequest) -> HttpResponseBase:
    # Exporting is one capability, reading the audit trail another: both are needed here.
    if not request.user.can(Cap.AUDIT_VIEW):
        raise PermissionDenied
    return _export(request, dataset=AUDIT_TRAIL, parse=audit_filters_from_query,
                   select=selectors.audit_entries_filtered, tz=request.tenant.timezone)


@requires(Cap.SELF_SERVICE)
@require_GET
def my_signins_export(request: ConsoleRequest) -> HttpResponseBase:
    return _export(request, dataset=MY_SIGNINS, parse=login_filters_from_query,
                   select=selectors.login_events_filtered,
                   tz=request.user.effective_timezone, own=True)


@requires(Cap.SELF_SERVICE)
@require_GET
def my_exports_export(request: ConsoleRequest) -> HttpResponseBase:
    return _export(request, dataset=MY_EXPORTS, parse=export_filters_from_query,
                   select=selectors.export_events_filtered,
                   tz=request.user.effective_timezone, own=True)


__all__ = [
    "audit_trail_export",
    "export_log_export",
    "my_exports_export",
    "my_signins_export",
    "signin_log_export",
]
