"""Streaming exports of the record: sign-in log, export log, audit trail, one's own sign-ins.

Design: an export is evidence that log data left the console, so it is never possible without
its ExportEvent: ``export_stream_open`` commits the event before returning the stream, and the
stream completes it (rows, bytes) or marks it incomplete when the client goes away
(``stream.py``). Rows are read in constant memory, by COPY on PostgreSQL (``pgcopy.py``) and by
keyset pages elsewhere; both write the same bytes. CSV is RFC 4180 with CRLF, UTF-8 with an
optional BOM, and formula cells neutralised (``formats.py``); the columns of each dataset and
how values are written are in ``datasets.py``.

Views call ``export_stream_open`` with a queryset already narrowed to the tenant, the visible
window and the parsed filters, then wrap it with ``export_response``.
"""

from __future__ import annotations

from activity.exports.datasets import (
    AUDIT_TRAIL,
    DATASETS,
    EXPORT_LOG,
    MY_EXPORTS,
    MY_SIGNINS,
    SIGNIN_LOG,
    Column,
    Dataset,
)
from activity.exports.formats import (
    BOM,
    FORMULA_PREFIXES,
    CsvEncoder,
    ExportFormat,
    JsonlEncoder,
    neutralise_cell,
)
from activity.exports.response import content_disposition, export_filenames, export_response
from activity.exports.stream import ExportStream, export_stream_open, keyset_chunks, row_chunks

__all__ = [
    "AUDIT_TRAIL",
    "BOM",
    "DATASETS",
    "EXPORT_LOG",
    "FORMULA_PREFIXES",
    "MY_EXPORTS",
    "MY_SIGNINS",
    "SIGNIN_LOG",
    "Column",
    "CsvEncoder",
    "Dataset",
    "ExportFormat",
    "ExportStream",
    "JsonlEncoder",
    "content_disposition",
    "export_filenames",
    "export_response",
    "export_stream_open",
    "keyset_chunks",
    "neutralise_cell",
    "row_chunks",
]
