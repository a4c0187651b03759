"""Download my data: a person's own sign-in and export history, every row of it still held.

The access right of GDPR (Art. 15) and PIPL (Art. 45). Unlike the log pages and the "my" exports,
which read the tenant's visible window, this file has every row of the person's that the record
still holds, the grey zone included (rows past the visible window, pending deletion) and rows a
legal hold keeps: the data is theirs until it is gone. Each row says the day it is due for
deletion (``activity.lifetime``), so the file also answers "how long do you keep it".

One CSV: the sign-ins first, then the exports, each newest first; a "Record" column says which a
row is, and the columns that do not apply to it are empty. It is read by the person, not imported
by a SIEM, so unlike the log exports' stable English keys its headers and coded values (outcome,
reason, device…) are written in the person's language, and it begins with a BOM so spreadsheets
read it as UTF-8 (names in Chinese). Text cells are formula-neutralised by the exports' CSV
encoder, as in every export.

It is an export like the others: its ``ExportEvent`` (dataset ``my_data``) is committed before the
first byte and completed, or marked incomplete, by ``activity.exports.stream.ExportStream``. Rows
come in keyset pages of (time, id), one query each, so memory stays constant however long the
history is.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from activity.capture import ClientInfo
from activity.capture.types import DeviceType
from activity.exports.formats import BOM, CsvEncoder
from activity.exports.stream import ExportStream
from activity.lifetime import RetentionRules, retention_rules
from activity.models import (
    ExportEvent,
    ExportStatus,
    LoginEvent,
    MfaMethod,
    Outcome,
    Protocol,
    Reason,
)
from activity.services import export_event_start
from alerts.rules.countries import country_name

DATASET = "my_data"
FORMAT = "csv"
CHUNK_ROWS = 2000
# What the ExportEvent records about the rows: all of the person's own, the grey zone included.
RECORDED_FILTERS = {"grey": "1", "person": "self", "contents": "sign-ins, exports"}

_CLIENT_FIELDS = ("ip", "country", "browser_family", "browser_version", "os_family",
                  "os_version", "device_type", "user_agent")
_SIGNIN_FIELDS = ("occurred_at", "pk", *_CLIENT_FIELDS, "protocol", "outcome", "reason",
                  "mfa_method", "attempted_login")
_EXPORT_FIELDS = ("occurred_at", "pk", *_CLIENT_FIELDS, "dataset", "format", "status",
                  "row_count", "completed_at")


def headers(*, tz: str) -> list[str]:
    """The header row in the active language; the local time's column names the zone."""
    return [
        _("Record"), _("Time (UTC)"), _("Time (%(zone)s)") % {"zone": tz},
        _("IP address"), _("Country"), _("Browser"), _("Browser version"), _("Operating system"),
        _("Operating system version"), _("Device"), _("User agent"),
        _("Sign-in over"), _("Outcome"), _("Reason"), _("Second factor"), _("Address entered"),
        _("Exported data"), _("File format"), _("Export status"), _("Rows exported"),
        _("Export completed (UTC)"),
        _("Due for deletion on"),
    ]


def _labels(choices: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices}


class _Writer:
    """Turns stored rows into the file's cells, with every label resolved once, in one language."""

    def __init__(self, *, tz: str, rules: RetentionRules) -> None:
        self.zone = zoneinfo.ZoneInfo(tz)
        self.rules = rules
        self.signin = _("Sign-in")
        self.export = _("Export")
        self.protocols = _labels(Protocol.choices)
        self.outcomes = _labels(Outcome.choices)
        self.reasons = _labels(Reason.choices)
        self.mfa = _labels(MfaMethod.choices)
        self.devices = _labels(DeviceType.choices)
        self.statuses = _labels(ExportStatus.choices)
        self._countries: dict[str, str] = {}

    def _utc(self, value: dt.datetime | None) -> str:
        return "" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    def _local(self, value: dt.datetime) -> str:
        return value.astimezone(self.zone).isoformat(sep=" ", timespec="seconds")

    def _country(self, code: str) -> str:
        if not code:
            return ""
        if code not in self._countries:
            name = country_name(code)
            self._countries[code] = f"{name} ({code})" if name != code else code
        return self._countries[code]

    def _client(self, row: Sequence[Any]) -> list[Any]:
        ip, country, browser, browser_version, os_family, os_version, device, user_agent = row
        return [ip, self._country(country), browser, browser_version, os_family, os_version,
                self.devices.get(device, device), user_agent]

    def signin_row(self, row: Sequence[Any]) -> list[Any]:
        at, _pk, *rest = row
        client, (protocol, outcome, reason, mfa, login) = rest[:8], rest[8:]
        return [self.signin, self._utc(at), self._local(at), *self._client(client),
                self.protocols.get(protocol, protocol), self.outcomes.get(outcome, outcome),
                self.reasons.get(reason, reason) if reason else "",
                self.mfa.get(mfa, mfa) if mfa else "", login,
                "", "", "", "", "",
                self.rules.deleted_on(at).isoformat()]

    def export_row(self, row: Sequence[Any]) -> list[Any]:
        at, _pk, *rest = row
        client, (dataset, file_format, status, rows, completed) = rest[:8], rest[8:]
        return [self.export, self._utc(at), self._local(at), *self._client(client),
                "", "", "", "", "",
                dataset, file_format, self.statuses.get(status, status), int(rows or 0),
                self._utc(completed),
                self.rules.deleted_on(at).isoformat()]


def _pages(queryset: QuerySet[Any], fields: Sequence[str], *, chunk_rows: int) -> Generator[list[Any]]:
    """``queryset``'s rows as tuples of ``fields`` (time and pk first), newest first, a page per query."""
    ordered = queryset.order_by("-occurred_at", "-pk").values_list(*fields)
    page = ordered
    while True:
        rows = list(page[:chunk_rows])
        if rows:
            yield rows
        if len(rows) < chunk_rows:
            return
        last_at, last_pk = rows[-1][0], rows[-1][1]
        page = ordered.filter(Q(occurred_at__lt=last_at) | Q(occurred_at=last_at, pk__lt=last_pk))


def _chunks(*, parts: Sequence[tuple[QuerySet[Any], Sequence[str], Callable[[Sequence[Any]], list[Any]]]],
            language: str, chunk_rows: int) -> Generator[tuple[bytes, int]]:
    encoder = CsvEncoder()
    for queryset, fields, to_cells in parts:
        for rows in _pages(queryset, fields, chunk_rows=chunk_rows):
            # The server iterates the response after the view returned: translate in the
            # person's language explicitly, whatever the thread has active by then.
            with translation.override(language):
                yield encoder.encode([to_cells(row) for row in rows]), len(rows)


def my_signins_all(*, user: User) -> QuerySet[LoginEvent]:
    """Every sign-in event of the person the record still holds (no visible-window bound)."""
    assert user.tenant is not None
    return LoginEvent.objects.for_tenant(user.tenant).filter(user=user)


def my_exports_all(*, user: User, exclude: Model | None = None) -> QuerySet[ExportEvent]:
    """Every export event of the person the record still holds (no visible-window bound)."""
    assert user.tenant is not None
    exports = ExportEvent.objects.for_tenant(user.tenant).filter(user=user)
    return exports.exclude(pk=exclude.pk) if exclude is not None else exports


def my_data_export_open(*, user: User, client: ClientInfo, chunk_rows: int = CHUNK_ROWS) -> ExportStream:
    """Record that ``user`` downloads their own data and return the CSV's byte stream."""
    tenant = user.tenant
    if tenant is None:
        raise ValueError("only a company's people have a record to download")
    tz = user.effective_timezone
    # durable: the record is committed before the first byte, as for every export.
    with transaction.atomic(durable=True):
        event = export_event_start(tenant=tenant, user=user, client=client, dataset=DATASET,
                                   format=FORMAT, filters=RECORDED_FILTERS,
                                   occurred_at=timezone.now())
    writer = _Writer(tz=tz, rules=retention_rules(tenant=tenant))
    encoder = CsvEncoder()
    prefix = BOM + encoder.header(headers(tz=tz))
    chunks = _chunks(parts=(
        (my_signins_all(user=user), _SIGNIN_FIELDS, writer.signin_row),
        # This download's own row is not part of the history it delivers.
        (my_exports_all(user=user, exclude=event), _EXPORT_FIELDS, writer.export_row),
    ), language=translation.get_language() or "en", chunk_rows=chunk_rows)
    return ExportStream(event=event, prefix=prefix, chunks=chunks)
