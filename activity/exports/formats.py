"""File formats of the exports: CSV (RFC 4180) and JSON Lines, encoded as UTF-8.

Formula injection. A spreadsheet opening a CSV treats a cell that begins with ``=``, ``+``, ``-``
or ``@`` as a formula (and tab or carriage return are used to smuggle one past naive checks), so
an attacker who controls a logged value (an attempted address, a User-Agent) could run a formula
on the auditor's machine. Every *text* cell of a CSV export that begins with one of those
characters gets a leading apostrophe (OWASP's advice); the apostrophe is visible in a plain
reader, which is the honest trade-off. Numbers we write ourselves (row and byte counts, never
negative) are not text cells and are written as plain digits; times are written by us and
always begin with a digit. JSON Lines is for programs, not spreadsheets: values are written as
they are.

CSV is written by the csv module (QUOTE_MINIMAL, CRLF line ends) onto an in-memory buffer that
is flushed as one bytes chunk per batch of rows, so the per-row cost stays in C.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

BOM = b"\xef\xbb\xbf"
# The characters that make a spreadsheet read a cell as a formula (or hide one).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMULA_ESCAPE = "'"


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @property
    def content_type(self) -> str:
        if self is ExportFormat.CSV:
            return "text/csv; charset=utf-8; header=present"
        return "application/jsonl; charset=utf-8"

    @property
    def extension(self) -> str:
        return self.value


def neutralise_cell(value: str) -> str:
    """``value`` as a CSV text cell that no spreadsheet evaluates."""
    if value.startswith(FORMULA_PREFIXES):
        return FORMULA_ESCAPE + value
    return value


def _csv_cell(value: Any) -> Any:
    # Only strings are neutralised: ints are our own counts, and None is an empty cell.
    if isinstance(value, str):
        return FORMULA_ESCAPE + value if value.startswith(FORMULA_PREFIXES) else value
    if value is None:
        return ""
    return value


class CsvEncoder:
    """Rows → UTF-8 CSV bytes, RFC 4180: minimal quoting, doubled quotes, CRLF line ends."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")

    def _drain(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")

    def header(self, keys: Sequence[str]) -> bytes:
        self._writer.writerow(keys)
        return self._drain()

    def encode(self, rows: Iterable[Sequence[Any]]) -> bytes:
        """One chunk for a batch of rows (already in column order)."""
        writerow = self._writer.writerow
        for row in rows:
            writerow([_csv_cell(value) for value in row])
        return self._drain()


class JsonlEncoder:
    """Rows → UTF-8 JSON Lines: one compact object per line, keys in column order, LF ends."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = tuple(keys)
        # Compact separators and raw UTF-8: byte for byte what PostgreSQL's row_to_json writes,
        # so both export paths give the same file.
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def header(self, keys: Sequence[str]) -> bytes:
        return b""

    def encode(self, rows: Iterable[Sequence[Any]]) -> bytes:
        keys, dumps = self._keys, self._dumps
        return "".join(
            [dumps(dict(zip(keys, row, strict=True))) + "\n" for row in rows]
        ).encode("utf-8")


def encoder_for(fmt: ExportFormat, keys: Sequence[str]) -> CsvEncoder | JsonlEncoder:
    return CsvEncoder() if fmt is ExportFormat.CSV else JsonlEncoder(keys)
