"""The people list, its bulk actions and its CSV export: thin views over the directory's
selectors and ``bulk``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST, require_safe

from accounts.mfa.selectors import METHOD_BACKUP_CODES, METHOD_PASSKEY, METHOD_TOTP
from accounts.mfa.services import mfa_recent_auth_confirm, mfa_recent_auth_ok
from accounts.requests import ConsoleRequest
from activity.capture import client_info
from activity.exports import ExportFormat, export_response
from people.directory import bulk
from people.directory.export import PEOPLE, people_export_open
from people.directory.forms import (
    FIRST_ORDER,
    ORDER_ASC,
    ORDER_DESC,
    BulkActionForm,
    BulkConfirmForm,
    DirectoryFilterForm,
    filters_query,
    filters_recorded,
    selected_ids,
)
from people.directory.keyset import CursorInvalid, cursor_decode
from people.directory.selectors import (
    DirectoryFilters,
    Sort,
    directory_page,
    directory_state,
)
from tenants.access import requires
from tenants.roles import Cap

LIST_TEMPLATE = "people/directory/list.html"
CONFIRM_TEMPLATE = "people/directory/bulk_confirm.html"
# How many names a result message lists before "and N more".
NAMES_SHOWN = 10


def _method_labels() -> dict[str, str]:
    return {METHOD_TOTP: _("Authenticator app"), METHOD_PASSKEY: _("Passkey"),
            METHOD_BACKUP_CODES: _("Backup codes")}


def _columns(filters: DirectoryFilters) -> list[dict[str, Any]]:
    """Each sortable column's header: its label, link and current order (aria-sort)."""
    labels = [(Sort.NAME, _("Name")), (Sort.EMAIL, _("E-mail")), (Sort.ROLE, _("Role")),
              (Sort.STATUS, _("Status")), (Sort.MFA, _("Two-step sign-in")),
              (Sort.LAST_SIGNIN, _("Last sign-in")), (Sort.LOCKED, _("Locked")),
              (Sort.ALERTS, _("Open alerts"))]
    columns = []
    for sort, label in labels:
        current = filters.sort is sort
        if current:
            order = ORDER_ASC if filters.descending else ORDER_DESC
        else:
            order = FIRST_ORDER.get(sort, ORDER_ASC)
        query = filters_query(filters, sort=sort.value, dir=order)
        columns.append({
            "sort": sort.value, "label": label, "url": f"?{query}",
            "aria_sort": ("descending" if filters.descending else "ascending") if current else "",
        })
    return columns


def _back_query(request: ConsoleRequest) -> str:
    """The list's query string the bulk form came from, re-encoded (never a URL of its own)."""
    raw = request.POST.get("back", "")[:2000]
    return QueryDict(raw).urlencode()


def _list_url(query: str) -> str:
    return reverse("people_list") + (f"?{query}" if query else "")


@require_safe
@requires(Cap.PEOPLE_VIEW)
def people_list_view(request: ConsoleRequest) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None)
    filters = form.filters()
    cursor = None
    if request.GET.get("cursor"):
        try:
            cursor = cursor_decode(request.GET["cursor"], sort=filters.sort.value,
                                   descending=filters.descending)
        except CursorInvalid:
            messages.info(request, _("That page link is not valid any more; here is the first page."))
    state = directory_state(tenant=request.tenant)
    page = directory_page(tenant=request.tenant, filters=filters, state=state, cursor=cursor)
    query = filters_query(filters)
    base = f"?{query}&" if query else "?"
    actor = request.user
    actions = bulk.actions_for(actor)
    action_form = BulkActionForm()
    action_form.fields["action"].choices = [(a.code, a.label) for a in actions]  # type: ignore[attr-defined]
    filtered = any((filters.query, filters.role, filters.status, filters.no_mfa, filters.locked,
                    filters.password_expired))
    return render(request, LIST_TEMPLATE, {
        "form": form, "filters": filters, "filtered": filtered, "page": page,
        "columns": _columns(filters), "method_labels": _method_labels(),
        "first_url": f"?{query}" if query else "?",
        "newer_url": f"{base}cursor={page.prev_cursor}" if page.prev_cursor else "",
        "older_url": f"{base}cursor={page.next_cursor}" if page.next_cursor else "",
        "query": query, "actions": actions, "action_form": action_form,
        "can_invite": actor.can(Cap.PEOPLE_INVITE),
        "can_export": actor.can(Cap.LOGS_EXPORT),
        "can_view_alerts": actor.can(Cap.ALERTS_VIEW),
        "expiry_applies": state.password_expired is not None,
        "export_url": reverse("people_export") + f"?{query}" if query else reverse("people_export"),
        "max_selected": bulk.MAX_SELECTED,
    })


def _result_messages(request: ConsoleRequest, action: bulk.BulkAction, result: bulk.BulkResult) -> None:
    if result.done:
        names = ", ".join(str(p) for p in result.done[:NAMES_SHOWN])
        more = len(result.done) - NAMES_SHOWN
        text = ngettext("%(action)s: done for %(count)d person (%(names)s).",
                        "%(action)s: done for %(count)d people (%(names)s).",
                        len(result.done)) % {"action": action.label, "count": len(result.done),
                                             "names": names}
        if more > 0:
            text += " " + ngettext("And %(more)d more.", "And %(more)d more.", more) % {"more": more}
        messages.success(request, text)
    for failure in result.failed:
        messages.error(request, _("%(name)s was not changed: %(reason)s") % {
            "name": failure.person, "reason": failure.reason})
    if not result.done and not result.failed:
        messages.info(request, _("Nobody was changed."))


@requires(Cap.PEOPLE_VIEW)
@require_POST
def people_bulk_view(request: ConsoleRequest) -> HttpResponse:
    """POST from the list: the confirmation page; POST from that page (stage=apply): apply."""
    tenant, actor = request.tenant, request.user
    back = _back_query(request)
    action_form = BulkActionForm(request.POST)
    if not action_form.is_valid():
        messages.error(request, _("Choose an action for the selected people."))
        return redirect(_list_url(back))
    action = bulk.ACTIONS[action_form.cleaned_data["action"]]
    if not actor.can(action.capability):
        raise PermissionDenied
    try:
        ids = selected_ids(request.POST)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_list_url(back))
    try:
        plan = bulk.bulk_plan(tenant=tenant, actor=actor, action=action, ids=ids)
    except bulk.PeopleNotFound:
        raise Http404 from None
    needs_secret = action.recent_auth and not mfa_recent_auth_ok(request)
    applying = request.POST.get("stage") == "apply"
    confirm = BulkConfirmForm(request.POST if applying else None, needs_secret=needs_secret,
                              needs_reason=action.needs_reason, tz=tenant.timezone)
    if applying and plan.targets and confirm.is_valid():
        if needs_secret:
            try:
                mfa_recent_auth_confirm(request=request, user=actor,
                                        secret=confirm.cleaned_data["secret"])
            except ValidationError as exc:
                confirm.add_error("secret", exc)
        if not confirm.errors:
            result = bulk.bulk_apply(
                tenant=tenant, actor=actor, plan=plan,
                reason=confirm.cleaned_data.get("reason") or "",
                effective_at=confirm.cleaned_data.get("effective_on"))
            _result_messages(request, action, result)
            return redirect(_list_url(back))
    return render(request, CONFIRM_TEMPLATE, {
        "plan": plan, "action": action, "ids": ids, "back": back, "back_url": _list_url(back),
        "confirm": confirm, "needs_secret": needs_secret,
    }, status=400 if confirm.errors else 200)


@requires(Cap.LOGS_EXPORT)
@require_GET
def people_export_view(request: ConsoleRequest) -> HttpResponseBase:
    # Exporting is one capability, reading the people list another: both are needed here.
    if not request.user.can(Cap.PEOPLE_VIEW):
        raise PermissionDenied
    tenant = request.tenant
    if request.GET.get("format", "csv") != ExportFormat.CSV.value:
        return render(request, "activity/exports/export_error.html",
                      {"errors": [_("The people list is exported as csv.")]}, status=400)
    filters = DirectoryFilterForm(request.GET or None).filters()
    stream = people_export_open(
        tenant=tenant, actor=request.user, client=client_info(request), filters=filters,
        state=directory_state(tenant=tenant), recorded=filters_recorded(filters),
        bom=request.GET.get("bom") == "1")
    return export_response(stream, tenant=tenant, dataset=PEOPLE, fmt=ExportFormat.CSV)
