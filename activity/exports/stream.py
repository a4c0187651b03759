"""An export as a stream of bytes that is never without its record.

Design: ``export_stream_open`` commits the ExportEvent (who, what, which filters, from where)
in its own durable transaction *before* it returns anything to stream, so no byte of an export
can leave without its row. The returned ``ExportStream`` completes the event with the row and
byte counts when the last chunk has been handed over, and marks it ``incomplete`` with the
counts so far when the stream stops early: the WSGI server calls ``close()`` when the client
disconnects (GeneratorExit inside the generator), and an error while reading rows ends it too.

Counts are what was handed to the server: the chunk in hand when the client vanished is
counted, though the socket may not have delivered all of it.

Rows come in constant memory: on PostgreSQL, COPY (activity.exports.pgcopy) for datasets whose
columns PostgreSQL can format; otherwise keyset pages (time, id) of ``KEYSET_CHUNK_ROWS`` rows,
one query each, which works on every backend and never holds more than one page.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from typing import Any

from django.db import connections, transaction
from django.db.models import Q, QuerySet

from accounts.models import User
from activity.capture import ClientInfo
from activity.exports.datasets import Dataset, format_rows, row_formatters
from activity.exports.formats import BOM, ExportFormat, encoder_for
from activity.exports.pgcopy import copy_chunks
from activity.models import ExportEvent
from activity.services import export_event_complete, export_event_start
from tenants.models import Tenant

logger = logging.getLogger(__name__)

KEYSET_CHUNK_ROWS = 2000

Chunks = Generator[tuple[bytes, int]]


def keyset_chunks(
    queryset: QuerySet[Any], dataset: Dataset, *, fmt: ExportFormat, tz: str,
    chunk_rows: int = KEYSET_CHUNK_ROWS, tenant: Tenant | None = None,
) -> Chunks:
    """(bytes, rows) chunks of ``queryset``, newest first, one keyset page per query."""
    time_field = dataset.time_field
    paths = [column.source() for column in dataset.columns]
    ordered = queryset.order_by(f"-{time_field}", "-pk").values_list(
        time_field, "pk", *paths, *dataset.derive_paths)
    formatters = row_formatters(dataset, tz=tz, fmt=fmt)
    encoder = encoder_for(fmt, dataset.keys)
    width = len(paths)
    named = [column.key for column in dataset.columns] + list(dataset.derive_paths)
    page = ordered
    while True:
        rows = list(page[:chunk_rows])
        if not rows:
            return
        formatted = format_rows([row[2:2 + width] for row in rows], formatters)
        if dataset.derive is not None:
            extra = dataset.derive([dict(zip(named, row[2:], strict=True)) for row in rows], tenant, tz)
            formatted = [(*values, *more) for values, more in zip(formatted, extra, strict=True)]
        yield encoder.encode(formatted), len(rows)
        if len(rows) < chunk_rows:
            return
        last_time, last_pk = rows[-1][0], rows[-1][1]
        # Strictly after the last row in (time DESC, id DESC) order: the index order of every
        # log table, so each page is an index range scan however deep the export is.
        page = ordered.filter(
            Q(**{f"{time_field}__lt": last_time}) | Q(**{time_field: last_time, "pk__lt": last_pk})
        )


def row_chunks(queryset: QuerySet[Any], dataset: Dataset, *, fmt: ExportFormat, tz: str,
               tenant: Tenant | None = None) -> Chunks:
    """The rows of ``queryset`` as encoded chunks, by the fastest constant-memory path."""
    vendor = connections[queryset.db].vendor
    if vendor == "postgresql" and dataset.copy_capable:
        return copy_chunks(queryset, dataset, fmt=fmt, tz=tz)
    return keyset_chunks(queryset, dataset, fmt=fmt, tz=tz, tenant=tenant)


class ExportStream:
    """The bytes of one export. Iterate once; ``close()`` ends it early (marked incomplete)."""

    def __init__(self, *, event: ExportEvent, prefix: bytes, chunks: Chunks) -> None:
        self.event = event
        self.row_count = 0
        self.byte_count = 0
        self._prefix = prefix
        self._chunks = chunks
        self._finished = False
        self._generator = self._run()

    def __iter__(self) -> Iterator[bytes]:
        return self._generator

    def _run(self) -> Generator[bytes]:
        try:
            if self._prefix:
                self.byte_count += len(self._prefix)
                yield self._prefix
            for chunk, rows in self._chunks:
                self.row_count += rows
                self.byte_count += len(chunk)
                yield chunk
        except BaseException:
            # GeneratorExit (client gone) or a database error: stop reading first (this ends a
            # COPY and rolls back its transaction), then record what was sent.
            self._chunks.close()
            self._finish(complete=False)
            raise
        self._finish(complete=True)

    def _finish(self, *, complete: bool) -> None:
        if self._finished:
            return
        self._finished = True
        self.event = export_event_complete(
            event=self.event, row_count=self.row_count, byte_count=self.byte_count,
            complete=complete,
        )

    def close(self) -> None:
        """Called by the WSGI server (through the response) when the download ends."""
        try:
            self._generator.close()
        finally:
            # A stream closed before its first chunk never ran its generator.
            if not self._finished:
                self._chunks.close()
                self._finish(complete=False)


def export_stream_open(
    *,
    tenant: Tenant,
    actor: User,
    client: ClientInfo,
    dataset: Dataset,
    queryset: QuerySet[Any],
    fmt: ExportFormat,
    filters: dict[str, Any],
    tz: str,
    bom: bool = False,
) -> ExportStream:
    """Record that ``actor`` exports ``queryset`` as ``dataset`` and return its byte stream.

    ``queryset`` must already be narrowed to ``tenant`` (and the visible window, and the
    filters); ``filters`` is what the ExportEvent records about that narrowing.
    """
    if queryset.model is not dataset.model:
        raise ValueError(f"{dataset.name} exports {dataset.model.__name__} rows")
    # durable: the record must be committed before the first byte, so being called inside
    # someone else's transaction (that might still roll back) is a bug, not a nesting.
    with transaction.atomic(durable=True):
        event = export_event_start(
            tenant=tenant, user=actor, client=client, dataset=dataset.name, format=fmt.value,
            filters=filters,
        )
    encoder = encoder_for(fmt, dataset.keys)
    # The BOM is for spreadsheets (Excel reads BOM-less CSV as the local code page); JSON Lines
    # readers expect none, so it is never written there.
    prefix = (BOM if bom and fmt is ExportFormat.CSV else b"") + encoder.header(dataset.keys)
    return ExportStream(event=event, prefix=prefix,
                        chunks=row_chunks(queryset, dataset, fmt=fmt, tz=tz, tenant=tenant))
