"""How the log pages show their rows: the sign-in table's HTML, the filters' options, the export
log's filter descriptions and the audit trail's changes (the views in ``activity.logs.views``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.models import User
from activity.audit_text import EntrySource, entries_group, groups_describe
from activity.capture.types import DeviceType
from activity.filters import (
    MFA_NONE,
    filters_describe,
    filters_person_ids,
)
from activity.models import AuditLogEntry, MfaMethod, Outcome, Protocol, Reason
from activity.selectors import Window
from activity.services import GREY_ZONE_CHANGE
from tenants.models import Tenant

# The pages whose grey-zone openings are recorded (activity.logs.views, activity.exports).

PAGE_SIZES = (25, 50, 100, 200)


def _options(choices: Any, selected: str | None) -> SafeString:
    """The ``<option>`` elements of ``choices``, ``selected`` marked, escaped as the template would.

    Built here rather than by a template loop: the sign-in filters' 36 options were a third of the
    page's remaining rendering time (a lazy label, a comparison and two lookups each).
    """
    return SafeString("".join(  # nosec B703  # every value is escaped below
        f'<option value="{escape(str(value))}"{" selected" if value == selected else ""}>'
        f"{escape(str(label))}</option>" for value, label in choices))


def login_choices(params: dict[str, str]) -> dict[str, Any]:
    mfa_methods = [(MFA_NONE, MfaMethod.NONE.label),
                   *[(v, label) for v, label in MfaMethod.choices if v]]
    return {
        "outcome_options": _options(Outcome.choices, params.get("outcome")),
        "reason_options": _options(Reason.choices, params.get("reason")),
        "device_options": _options(DeviceType.choices, params.get("device")),
        "mfa_options": _options(mfa_methods, params.get("mfa")),
        "protocol_options": _options(Protocol.choices, params.get("protocol")),
    }


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
    "{deleted}    </tr>\n  "
)
# With the grey zone shown: the day each row will be deleted, flagged when it is past the
# visible window already.
_DELETED_CELL = '      <td class="nowrap" data-testid="deleted-on">{day}{flag}</td>\n'
_PENDING_FLAG = ' <span class="badge pending">{label}</span>'


_PK_PLACEHOLDER = 987654321


def _deleted_cell(window: Window | None, at: Any, *, audit: bool = False) -> str:
    if window is None:
        return ""
    day = window.audit_deleted_on(at) if audit else window.deleted_on(at)
    flag = (_PENDING_FLAG.format(label=escape(_("pending deletion")))
            if window.pending(at) else "")
    return _DELETED_CELL.format(day=day.isoformat(), flag=flag)


def signin_rows(rows: list[Any], *, display_tz: str | None,
                window: Window | None = None) -> list[SafeString]:
    """The sign-in table's rows as HTML, times in ``display_tz`` (as ``{% timezone %}`` does).

    ``window``: the grey zone is shown; each row says the day it will be deleted, and its detail
    link keeps the grey zone open.
    """
    detail_head, _sep, detail_tail = escape(
        reverse("signin_log_detail", args=[_PK_PLACEHOLDER])).rpartition(str(_PK_PLACEHOLDER))
    if window is not None:
        detail_tail += "?grey=1"
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
            deleted=_deleted_cell(window, e.occurred_at),
        )))
    return html_rows


@dataclass(frozen=True, slots=True)
class ExportRow:
    event: Any
    filters: list[tuple[str, str]]
    deleted_on: date | None = None  # with the grey zone shown
    pending: bool = False


def _people_named(tenant: Tenant, ids: set[int]) -> dict[int, str]:
    """The names of ``tenant``'s people among ``ids``, in one query; others' ids are left out."""
    if not ids:
        return {}
    people = User.objects.for_tenant(tenant).filter(pk__in=ids).only("id", "email", "display_name")
    return {person.pk: str(person) for person in people}


def export_rows(rows: list[Any], *, tenant: Tenant,
                window: Window | None = None) -> list[ExportRow]:
    """The export log's rows; a person in the recorded filters reads as their name."""
    people = _people_named(tenant, set().union(*(filters_person_ids(row.filters) for row in rows)))
    return [ExportRow(event=row, filters=filters_describe(row.filters, people),
                      deleted_on=window.deleted_on(row.occurred_at) if window else None,
                      pending=window.pending(row.occurred_at) if window else False)
            for row in rows]


@dataclass(frozen=True, slots=True)
class AuditRow:
    entry: AuditLogEntry  # the first-written entry of the action: its time, object and address
    actor: str
    object_type: str
    sentence: str  # who did what to whom (activity.audit_text)
    changes: list[tuple[str, str, str]]  # (field label, old, new): only what is news
    deleted_on: date | None = None  # with the grey zone shown
    pending: bool = False
    entries: tuple[AuditLogEntry, ...] = ()  # every entry of the action (one save: one entry)

    @property
    def entry_ids(self) -> str:
        return " ".join(str(entry.pk) for entry in self.entries)


def _grey_zone_client(entry: AuditLogEntry) -> tuple[str, str, str] | None:
    if not (isinstance(entry.changes, dict) and GREY_ZONE_CHANGE in entry.changes
            and isinstance(entry.additional_data, dict)):
        return None
    client = entry.additional_data
    browser = " · ".join(str(client.get(k) or "").strip()[:80] for k in ("browser", "os")
                         if client.get(k))
    return (_("Browser and system"), "—", browser or "—")


def audit_rows(entries: list[AuditLogEntry], *, tenant: Tenant, tz: str,
               window: Window | None = None) -> list[AuditRow]:
    """One row per action: the page's entries of one request (activity.audit_text.entries_group)."""
    groups = entries_group(entries)
    texts = groups_describe([[EntrySource.of(entry) for entry in group] for group in groups],
                            tenant=tenant, tz=tz)
    rows = []
    for group, text in zip(groups, texts, strict=True):
        entry = group[-1]  # newest first: the last is the first written
        changes = list(text.changes)
        changes.extend(client for e in reversed(group) if (client := _grey_zone_client(e)))
        rows.append(AuditRow(
            entry=entry,
            actor=str(entry.actor) if entry.actor else (entry.actor_email or _("System")),
            object_type=text.object_type,
            sentence=text.sentence,
            changes=changes,
            deleted_on=window.audit_deleted_on(entry.timestamp) if window else None,
            pending=window.pending(entry.timestamp) if window else False,
            entries=tuple(reversed(group)),
        ))
    return rows
