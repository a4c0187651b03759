"""Property: any text survives the CSV writer, except that no cell is left a formula."""

from __future__ import annotations

import csv
import io

from hypothesis import example, given, settings
from hypothesis import strategies as st

from activity.exports import BOM, FORMULA_PREFIXES, CsvEncoder, neutralise_cell

# Any Unicode text without NUL (the csv module refuses it; the record never stores it), with
# the characters that matter to CSV and spreadsheets made frequent.
cell_text = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        st.sampled_from(['"', ",", "\r", "\n", "=", "+", "-", "@", "\t", "'", "中", "文", "😀"]),
    ),
    max_size=40,
)
rows_of_text = st.lists(st.lists(cell_text, min_size=1, max_size=6), min_size=1, max_size=8)


def read_back(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@settings(max_examples=400, deadline=None)
@given(rows_of_text)
@example([["=1+1", "+cmd", "-2", "@A1", "\tx", "\ry", "ok"]])
@example([["中文, \"引号\"\r\n换行", ""]])
@example([[""]])
def test_text_round_trips_and_no_formula_survives(rows: list[list[str]]) -> None:
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    encoder = CsvEncoder()
    data = encoder.header([f"c{i}" for i in range(width)]) + encoder.encode(rows)
    header, *back = read_back(data)
    assert header == [f"c{i}" for i in range(width)]
    assert len(back) == len(rows)
    for original_row, read_row in zip(rows, back, strict=True):
        assert len(read_row) == len(original_row)
        for original, read in zip(original_row, read_row, strict=True):
            assert not read.startswith(FORMULA_PREFIXES)
            if original.startswith(FORMULA_PREFIXES):
                assert read == "'" + original
            else:
                assert read == original
            assert read == neutralise_cell(original)


@settings(max_examples=100, deadline=None)
@given(rows_of_text)
def test_records_end_with_crlf(rows: list[list[str]]) -> None:
    data = CsvEncoder().encode([[*row[:1], "x"] for row in rows])
    assert data.endswith(b"x\r\n")
    # Every record ends with CRLF; a bare LF or CR only ever appears inside a quoted cell.
    assert data.count(b"x\r\n") >= len(rows)


def test_bom_is_the_utf8_signature() -> None:
    assert "\ufeff".encode() == BOM
    assert (BOM + CsvEncoder().encode([["中文"]])).decode("utf-8-sig") == "中文\r\n"


def test_numbers_are_not_text_cells() -> None:
    assert CsvEncoder().encode([[-1, 0, 1234567890123, None]]) == b"-1,0,1234567890123,\r\n"
