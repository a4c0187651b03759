"""What each export contains: its rows' model, order and columns.

Column keys are the CSV header and the JSON Lines keys. They are stable English identifiers,
not translated labels: an export is a data contract that scripts and SIEM imports read, and a
header that changed with the exporter's language would break them. Coded values (outcome,
reason, device, MFA method, audit action) are exported as their stable codes for the same
reason; the log pages show the labels.

Times are written twice, in PostgreSQL's ISO output (RFC 3339 with a space, which ISO 8601
parsers such as Python's ``datetime.fromisoformat`` read): ``time_utc`` in UTC without a zone designator (the header names the zone), e.g.
``2025-03-01 08:00:00.123456``, and ``time_local`` in the zone the export is read in (the
tenant's, or the person's own for "my" exports) with that instant's offset, e.g.
``2025-03-01 16:00:00.123456+08`` (``+05:30`` where minutes matter). The fraction appears only
when there is one, without trailing zeros. This is the server's own timestamp output because the
COPY path is bounded by the server's formatting cost, and to_char is several times dearer; the
portable path writes the same text.
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, F, Model, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from activity.exports.formats import ExportFormat
from activity.models import AuditLogEntry, ExportEvent, LoginEvent


class Kind(StrEnum):
    TEXT = "text"
    # A code column whose values the database itself restricts (CHECK constraints on
    # LoginEvent): written as is, no formula neutralisation needed.
    CODE = "code"
    IP = "ip"
    TIME_UTC = "time_utc"
    TIME_LOCAL = "time_local"
    INT = "int"  # our own counts: written as numbers, never neutralised
    JSON = "json"  # CSV: JSON text (sorted keys); JSON Lines: the value itself
    AUDIT_ACTION = "audit_action"  # auditlog's small integer → create/update/delete/access
    CONTENT_TYPE = "content_type"  # content type id → "app_label.model"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    path: str  # the ORM path read for it (values_list)
    kind: Kind = Kind.TEXT
    # Read when ``path`` is NULL or empty (a TEXT column): the audit trail's actor is the acting
    # person's address, which an entry of a deleted person keeps only in ``actor_email`` and an
    # entry recorded with an actor but without ``actor_email`` holds only through the actor.
    fallback: str = ""

    def source(self) -> str | Coalesce:
        """What the portable path reads for this column: the path, or the path then its fallback."""
        if not self.fallback:
            return self.path
        return Coalesce(NullIf(F(self.path), Value("")), F(self.fallback), output_field=CharField())


@dataclass(frozen=True, slots=True)
class Dataset:
    """One exportable dataset. ``name`` is what the ExportEvent records."""

    name: str
    label: str | Promise
    model: type[Model]
    time_field: str
    columns: tuple[Column, ...]
    # Columns computed in Python from a whole chunk of rows (the audit trail's sentence, which
    # names related objects in one query per chunk): their keys, the extra ORM paths they read
    # beside the columns', and the function. ``derive(rows, tenant, tz)`` gets each row as a
    # mapping of column key (or extra path) → stored value and returns one tuple per row.
    derived_keys: tuple[str, ...] = ()
    derive_paths: tuple[str, ...] = ()
    derive: Callable[[Sequence[Mapping[str, Any]], Any, str], list[tuple[Any, ...]]] | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return (*(column.key for column in self.columns), *self.derived_keys)

    @property
    def copy_capable(self) -> bool:
        """True when PostgreSQL can format every column itself (the COPY fast path)."""
        return self.derive is None and all(c.kind in _COPY_KINDS for c in self.columns)


_COPY_KINDS = frozenset({Kind.TEXT, Kind.CODE, Kind.IP, Kind.TIME_UTC, Kind.TIME_LOCAL})

_CLIENT = (
    Column("ip", "ip", Kind.IP),
    Column("country", "country"),
    Column("browser", "browser_family"),
    Column("browser_version", "browser_version"),
    Column("os", "os_family"),
    Column("os_version", "os_version"),
    Column("device", "device_type", Kind.CODE),
)
_TIMES = (
    Column("time_utc", "occurred_at", Kind.TIME_UTC),
    Column("time_local", "occurred_at", Kind.TIME_LOCAL),
)
_SIGNIN_DETAIL = (
    Column("attempted_address", "attempted_login"),
    *_CLIENT,
    Column("outcome", "outcome", Kind.CODE),
    Column("reason", "reason", Kind.CODE),
    Column("mfa_method", "mfa_method", Kind.CODE),
    Column("session_ref", "session_ref"),
    Column("user_agent", "user_agent"),
)

SIGNIN_LOG = Dataset(
    name="signin_log",
    label=_("sign-in log"),
    model=LoginEvent,
    time_field="occurred_at",
    columns=(*_TIMES, Column("person", "user__email"), *_SIGNIN_DETAIL),
)
# One's own history: the same record without the person column (it is always the reader).
MY_SIGNINS = Dataset(
    name="my_signins",
    label=_("my sign-ins"),
    model=LoginEvent,
    time_field="occurred_at",
    columns=(*_TIMES, *_SIGNIN_DETAIL),
)
_EXPORT_DETAIL = (
    Column("dataset", "dataset"),
    Column("format", "format"),
    Column("filters", "filters", Kind.JSON),
    Column("status", "status"),
    Column("rows", "row_count", Kind.INT),
    Column("bytes", "byte_count", Kind.INT),
    Column("completed_utc", "completed_at", Kind.TIME_UTC),
    *_CLIENT,
    Column("user_agent", "user_agent"),
)
EXPORT_LOG = Dataset(
    name="export_log",
    label=_("export log"),
    model=ExportEvent,
    time_field="occurred_at",
    columns=(*_TIMES, Column("person", "user__email"), *_EXPORT_DETAIL),
)
MY_EXPORTS = Dataset(
    name="my_exports",
    label=_("my exports"),
    model=ExportEvent,
    time_field="occurred_at",
    columns=(*_TIMES, *_EXPORT_DETAIL),
)
AUDIT_TRAIL = Dataset(
    name="audit_trail",
    label=_("audit trail"),
    model=AuditLogEntry,
    time_field="timestamp",
    columns=(
    Column("time_utc", "timestamp", Kind.TIME_UTC),
    Column("time_local", "timestamp", Kind.TIME_LOCAL),
    # As the page: the acting person when the entry has one, else the address it recorded.
    Column("actor", "actor__email", fallback="actor_email"),
    Column("action", "action", Kind.AUDIT_ACTION),
    Column("object_type", "content_type_id", Kind.CONTENT_TYPE),
    Column("object_id", "object_pk"),
    Column("object", "object_repr"),
    Column("changes", "changes", Kind.JSON),
    Column("ip", "remote_addr", Kind.IP),
    # One row per stored entry (the record stays row for row); the entries of one admin action
    # (one request) share this id, which the page shows as one entry.
    Column("action_id", "cid"),
    ),
    # As the page reads: the sentence and the changes in words (in the exporter's language).
    derived_keys=("summary", "changes_text"),
    derive_paths=("actor_id", "actor__display_name", "additional_data"),
    derive=lambda rows, tenant, tz: _audit_derive(rows, tenant, tz),
)


def _audit_derive(rows: Sequence[Mapping[str, Any]], tenant: Any, tz: str) -> list[tuple[Any, ...]]:
    from activity.audit_text import EntrySource, entries_describe  # reads rows.py's labels

    sources = [EntrySource(
        action=row["action"], content_type_id=row["object_type"], object_pk=str(row["object_id"] or ""),
        object_repr=row["object"] or "", changes=row["changes"] if isinstance(row["changes"], dict) else {},
        actor_id=row["actor_id"], actor_label=row["actor__display_name"] or row["actor"] or "",
        additional_data=row["additional_data"] if isinstance(row["additional_data"], dict) else None,
    ) for row in rows]
    return [(text.sentence, text.changes_text) for text in entries_describe(sources, tenant=tenant, tz=tz)]

DATASETS = {d.name: d for d in (SIGNIN_LOG, MY_SIGNINS, EXPORT_LOG, MY_EXPORTS, AUDIT_TRAIL)}

_AUDIT_ACTIONS = {
    AuditLogEntry.Action.CREATE: "create",
    AuditLogEntry.Action.UPDATE: "update",
    AuditLogEntry.Action.DELETE: "delete",
    AuditLogEntry.Action.ACCESS: "access",
}


def _content_type_label(content_type_id: int) -> str:
    # ContentType's own cache makes this one query per type per process at most; a type whose
    # model is gone (an uninstalled app) keeps its stored app_label.model.
    content_type = ContentType.objects.get_for_id(content_type_id)
    return f"{content_type.app_label}.{content_type.model}"


# --- Python formatting (the portable path) ------------------------------------------------------
Formatter = Callable[[Any], Any]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _pg_iso(local: datetime) -> str:
    # PostgreSQL's ISO output: the fraction only when there is one, without trailing zeros.
    text = local.strftime("%Y-%m-%d %H:%M:%S")
    if local.microsecond:
        text += f".{local.microsecond:06d}".rstrip("0")
    return text


def _pg_offset(offset: timedelta | None) -> str:
    # PostgreSQL's ISO offset: +HH, then :MM and :SS only when they are not zero.
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}"
    if minutes or seconds:
        text += f":{minutes:02d}"
    if seconds:
        text += f":{seconds:02d}"
    return text


def _time_utc(value: datetime | None) -> str:
    return "" if value is None else _pg_iso(value.astimezone(UTC))


def _time_local(zone: zoneinfo.ZoneInfo) -> Formatter:
    def fmt(value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(zone)
        return _pg_iso(local) + _pg_offset(local.utcoffset())

    return fmt


def _json_text(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _json_value(value: Any) -> Any:
    return value


def _int(value: Any) -> int:
    return int(value or 0)


def _audit_action(value: Any) -> str:
    return _AUDIT_ACTIONS.get(value, "" if value is None else str(value))


def _content_type(value: Any) -> str:
    if value is None:
        return ""
    try:
        return _content_type_label(int(value))
    except ContentType.DoesNotExist:
        return ""


def row_formatters(dataset: Dataset, *, tz: str, fmt: ExportFormat) -> list[Formatter]:
    """One function per column turning the stored value into the exported one."""
    zone = zoneinfo.ZoneInfo(tz)
    by_kind: dict[Kind, Formatter] = {
        Kind.TEXT: _text,
        Kind.CODE: _text,
        Kind.IP: _text,
        Kind.TIME_UTC: _time_utc,
        Kind.TIME_LOCAL: _time_local(zone),
        Kind.INT: _int,
        Kind.JSON: _json_text if fmt is ExportFormat.CSV else _json_value,
        Kind.AUDIT_ACTION: _audit_action,
        Kind.CONTENT_TYPE: _content_type,
    }
    return [by_kind[column.kind] for column in dataset.columns]


def format_rows(rows: Sequence[Sequence[Any]], formatters: Sequence[Formatter]) -> list[tuple[Any, ...]]:
    return [tuple(f(v) for f, v in zip(formatters, row, strict=True)) for row in rows]
