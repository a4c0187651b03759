"""Audit trail pages end between actions, not inside one.

The audit trail shows one row per action: the entries one request wrote, grouped by
``activity.audit_text.entries_group`` (request id, tenant, actor). A page of N entries can end in
the middle of an action — an invitation's person and its invitation, a bulk suspension of 40
people — and the action would show half on this page and half on the next. Instead, the rest of
the page's last action joins the page (up to ``ACTION_REST_CAP`` more entries, one query), and
the "Older" link starts after it; the next page therefore begins with a whole action too.

A page reached through "Newer" ends where the page it came from began, which was already an
action's start, so it needs nothing. Only an action of more than ``ACTION_REST_CAP`` entries past
the boundary (a bulk action on hundreds of people) still continues on the next page.
"""

from __future__ import annotations

from dataclasses import replace

from django.db.models import Q, QuerySet

from activity.audit_text import entry_group_key
from activity.keyset import KeysetPage, cursor_encode
from activity.models import AuditLogEntry

ACTION_REST_CAP = 200


def page_action_completed(entries: QuerySet[AuditLogEntry], page: KeysetPage[AuditLogEntry],
                          ) -> KeysetPage[AuditLogEntry]:
    """``page`` with the rest of its last action appended (see the module docstring);
    ``entries`` is the query the page was cut from (same filters, newest first)."""
    if page.next_cursor is None or not page.rows:
        return page
    last = page.rows[-1]
    key = entry_group_key(last)
    if key is None:
        return page
    older = Q(timestamp__lt=last.timestamp) | Q(timestamp=last.timestamp, pk__lt=last.pk)
    following = list(entries.filter(older).order_by("-timestamp", "-pk")[:ACTION_REST_CAP + 1])
    rest = []
    for entry in following[:ACTION_REST_CAP]:
        if entry_group_key(entry) != key:
            break
        rest.append(entry)
    if not rest:
        return page
    more = len(following) > len(rest)
    end = rest[-1]
    next_cursor = (cursor_encode(AuditLogEntry, at=end.timestamp, pk=end.pk, direction="older")
                   if more else None)
    return replace(page, rows=[*page.rows, *rest], next_cursor=next_cursor, has_more=more)
