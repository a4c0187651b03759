"""The people list as CSV: every person the list's filters match, in the list's order.

Recorded like every export (``activity.exports``): the ExportEvent (dataset ``people``, the
filters) is committed before the first byte and completed with the row and byte counts when the
stream ends, or marked incomplete when the download breaks off. Rows are read by keyset pages of
the list itself (``EXPORT_CHUNK_ROWS`` people, then each page's facts in a constant number of
queries), so memory stays constant for any size of tenant. Text cells are written by the exports'
CSV encoder, which neutralises formula cells (a display name ``=HYPERLINK(...)`` is text).

The columns are stable English keys and codes (role, status, method codes), as every export's.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from activity.capture import ClientInfo
from activity.exports import BOM, Column, CsvEncoder, Dataset, ExportFormat, ExportStream
from activity.exports.datasets import Kind, format_rows, row_formatters
from activity.services import export_event_start
from people.directory.keyset import Cursor, cursor_decode, page_fetch
from people.directory.selectors import (
    DirectoryFilters,
    DirectoryState,
    people_directory,
    person_rows,
)
from tenants.models import Tenant

EXPORT_CHUNK_ROWS = 500

PEOPLE = Dataset(
    name="people",
    label=_("people"),
    model=User,
    time_field="date_joined",
    columns=(
        Column("email", "email"),
        Column("name", "display_name"),
        Column("role", "role", Kind.CODE),
        Column("status", "status", Kind.CODE),
        Column("two_step_methods", "methods", Kind.CODE),
        Column("last_signin_utc", "last_signin", Kind.TIME_UTC),
        Column("locked", "locked", Kind.CODE),
        Column("open_alerts", "open_alerts", Kind.INT),
        Column("password_expired", "password_expired", Kind.CODE),
        Column("must_change_password", "must_change_password", Kind.CODE),
        Column("joined_utc", "date_joined", Kind.TIME_UTC),
    ),
)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _chunks(*, tenant: Tenant, filters: DirectoryFilters, state: DirectoryState,
            tz: str) -> Generator[tuple[bytes, int]]:
    encoder = CsvEncoder()
    formatters = row_formatters(PEOPLE, tz=tz, fmt=ExportFormat.CSV)
    people = people_directory(tenant=tenant, filters=filters, state=state)
    cursor: Cursor | None = None
    while True:
        page = page_fetch(people, sort=filters.sort.value, descending=filters.descending,
                          cursor=cursor, size=EXPORT_CHUNK_ROWS)
        rows: list[tuple[Any, ...]] = []
        for row in person_rows(tenant=tenant, people=page.rows, state=state):
            person = row.person
            rows.append((person.email, person.display_name, person.role, person.status,
                         " ".join(row.methods), row.last_signin, _flag(row.locked), row.open_alerts,
                         _flag(row.password_expired), _flag(person.must_change_password),
                         person.date_joined))
        if rows:
            yield encoder.encode(format_rows(rows, formatters)), len(rows)
        if page.next_cursor is None:
            return
        cursor = cursor_decode(page.next_cursor, sort=filters.sort.value,
                               descending=filters.descending)


def people_export_open(*, tenant: Tenant, actor: User, client: ClientInfo, filters: DirectoryFilters,
                       state: DirectoryState, recorded: dict[str, Any], bom: bool = False) -> ExportStream:
    """Record that ``actor`` exports the people list (narrowed by ``filters``) and return its bytes."""
    # durable: the record is committed before the first byte leaves (activity.exports.stream).
    with transaction.atomic(durable=True):
        event = export_event_start(tenant=tenant, user=actor, client=client, dataset=PEOPLE.name,
                                   format=ExportFormat.CSV.value, filters=recorded)
    prefix = (BOM if bom else b"") + CsvEncoder().header(PEOPLE.keys)
    return ExportStream(event=event, prefix=prefix,
                        chunks=_chunks(tenant=tenant, filters=filters, state=state, tz=tenant.timezone))
