"""Reading a people CSV: encoding, delimiter, header and each row's values. No database here.

Everything streams: the file arrives as an iterable of byte chunks, is decoded incrementally,
split into lines and read by ``csv.reader`` one record at a time, so memory stays the size of a
chunk whatever the number of rows.

Encodings: UTF-8 (with or without a byte-order mark, as Excel's "CSV UTF-8" writes it) is tried
strictly first, then GB18030 (a superset of GBK and GB2312, what Excel writes on a Chinese
Windows); a file that is neither, or holds NUL characters (UTF-16, a spreadsheet saved as
binary), is refused as a whole.
"""

from __future__ import annotations

import codecs
import csv
import functools
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from accounts.models import normalize_email
from tenants.roles import Role

ENCODINGS = ("utf-8-sig", "gb18030")
DELIMITERS = (",", ";", "\t")
MAX_LINE_CHARS = 1 << 20  # a "line" longer than this is not a CSV of people
NAME_MAX = 150
# Spreadsheets run a cell starting with one of these as a formula (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Canonical column → the header names accepted for it (compared lower-cased, "_" and "-" read as
# spaces, runs of spaces collapsed).
COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e mail", "email address", "e mail address", "mail", "邮箱", "邮箱地址",
              "电子邮箱", "电子邮件", "邮件地址"),
    "name": ("name", "display name", "full name", "姓名", "名字", "显示名称"),
    "role": ("role", "角色"),
    "language": ("language", "lang", "语言"),
    "timezone": ("time zone", "timezone", "tz", "时区"),
    "action": ("action", "操作"),
}
REQUIRED_COLUMNS = ("email",)
# The header of the downloadable template, in the order the page documents.
TEMPLATE_HEADER = ("email", "name", "role", "language", "time zone", "action")

ACTIONS: dict[str, str] = {
    "create": "create", "创建": "create", "新建": "create", "添加": "create",
    "update": "update", "更新": "update", "修改": "update",
    "suspend": "suspend", "停用": "suspend", "暂停": "suspend",
    "offboard": "offboard", "离职": "offboard",
}
_ROLE_ALIASES: dict[str, str] = {
    "所有者": Role.OWNER, "拥有者": Role.OWNER, "管理员": Role.ADMIN, "审计员": Role.AUDITOR,
    "服务台": Role.HELPDESK, "技术支持": Role.HELPDESK, "成员": Role.MEMBER, "员工": Role.MEMBER,
}
_LANGUAGE_ALIASES: dict[str, str] = {
    "english": "en", "英语": "en", "英文": "en", "en-us": "en", "en-gb": "en",
    "zh": "zh-hans", "zh-cn": "zh-hans", "zh_cn": "zh-hans", "zh_hans": "zh-hans",
    "中文": "zh-hans", "简体中文": "zh-hans", "chinese": "zh-hans",
}

# Whole-file errors (code → message); the page shows them instead of a preview.
FILE_ERRORS: dict[str, object] = {
    "encoding": _("The file is neither UTF-8 nor GBK/GB18030 text. Save it from your spreadsheet "
                  "as “CSV UTF-8” and upload it again."),
    "empty": _("The file is empty."),
    "no_rows": _("The file has a header line but no people."),
    "missing_columns": _("The file has no %(columns)s column. Its first line must name the "
                         "columns, for example: email,name,role."),
    "unknown_columns": _("Unknown column(s): %(columns)s. The columns are email, name, role, "
                         "language, time zone and action."),
    "duplicate_columns": _("The column %(column)s appears twice."),
    "too_many_rows": _("The file has more than %(max)s people. Split it into files of at most "
                       "%(max)s rows."),
    "too_large": _("The file is larger than %(max)s MB. Split it into smaller files."),
    "malformed": _("Line %(line)s cannot be read as CSV. Check that every quote is closed."),
}

# Row errors (code → message with named parameters), shown on the preview line by line.
ROW_ERRORS: dict[str, object] = {
    "missing_email": _("The e-mail address is empty."),
    "bad_email": _("“%(value)s” is not a valid e-mail address."),
    "foreign_domain": _("%(domain)s is not one of your company's mail domains."),
    "other_tenant": _("%(email)s is the address of another company's account."),
    "unknown_role": _("Unknown role “%(value)s”. Use owner, admin, auditor, helpdesk or member."),
    "unknown_language": _("Unknown language “%(value)s”. Use en or zh-hans."),
    "unknown_timezone": _("Unknown time zone “%(value)s”. Use a name such as Asia/Shanghai."),
    "unknown_action": _("Unknown action “%(value)s”. Use create, update, suspend or offboard, or "
                        "leave it empty."),
    "duplicate": _("%(email)s is already on line %(line)s. Each person may appear once."),
    "formula": _("The %(column)s cell starts with “%(char)s”, which spreadsheets run as a formula. "
                 "The row is refused; remove the character."),
    "name_too_long": _("The name is longer than 150 characters."),
    "extra_cells": _("This line has %(cells)s cells but the header names %(columns)s columns."),
    "exists": _("%(email)s already has an account. Use the action update, or leave it empty."),
    "not_found": _("Nobody in your company has the address %(email)s."),
    "last_owner": _("%(email)s is the last owner. Make someone else an owner first."),
    "owner_only": _("Only an owner can make, change, suspend or offboard an owner."),
    "rank": _("You cannot manage a person with this role."),
    "self": _("You cannot suspend, offboard or change the role of yourself."),
    "not_allowed": _("Your role does not allow this action."),
    "offboarded": _("%(email)s has been offboarded. A file cannot change them."),
    "not_active": _("Only an active person can be suspended; %(email)s has not accepted the "
                    "invitation yet."),
}


def error_text(messages: dict[str, object], code: str, params: dict[str, object]) -> str:
    """The message of ``code`` with its parameters, in the active language."""
    template = str(messages.get(code, code))
    try:
        return template % params if params else template
    except (KeyError, TypeError, ValueError):
        return template


class ImportFileError(Exception):
    """The file cannot be imported at all; ``code`` names the reason (``FILE_ERRORS``)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        return error_text(FILE_ERRORS, self.code, self.params)


# --- Streaming decode -----------------------------------------------------------------------------


def decoded_lines(chunks: Iterable[bytes], encoding: str) -> Iterator[str]:
    """The lines of the file (each with its line end), decoded strictly as ``encoding``.

    Raises ``UnicodeDecodeError`` where the bytes are not that encoding, ``ImportFileError``
    on NUL characters or an absurdly long line.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    for chunk in chunks:
        text = pending + decoder.decode(chunk)
        if "\x00" in text:
            raise ImportFileError("encoding")
        lines = text.split("\n")
        pending = lines.pop()
        if len(pending) > MAX_LINE_CHARS:
            raise ImportFileError("malformed", line="?")
        for line in lines:
            yield line + "\n"
    text = pending + decoder.decode(b"", final=True)
    if "\x00" in text:
        raise ImportFileError("encoding")
    if text:
        yield text


def _normal_header(cell: str) -> str:
    value = cell.replace("\ufeff", "").strip().lower().replace("_", " ").replace("-", " ")
    return " ".join(value.split())


@functools.cache
def _header_aliases() -> dict[str, str]:
    return {alias: canonical for canonical, aliases in COLUMNS.items() for alias in aliases}


def columns_from_header(cells: list[str]) -> list[str]:
    """Canonical column names of a header line; ``ImportFileError`` when it cannot be used."""
    aliases = _header_aliases()
    columns: list[str] = []
    unknown: list[str] = []
    for cell in cells:
        name = _normal_header(cell)
        if not name:
            columns.append("")  # an empty trailing header cell (a spreadsheet's last comma)
            continue
        canonical = aliases.get(name)
        if canonical is None:
            unknown.append(cell.strip())
        elif canonical in columns:
            raise ImportFileError("duplicate_columns", column=cell.strip())
        else:
            columns.append(canonical)
    if unknown:
        raise ImportFileError("unknown_columns", columns=", ".join(unknown))
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ImportFileError("missing_columns", columns=", ".join(missing))
    return columns


def sniff_delimiter(first_line: str) -> str:
    """Comma unless the header line has more semicolons or tabs (Excel in some locales)."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


@dataclass(frozen=True)
class RawRow:
    line: int  # the file's line number where the record ends (a spreadsheet's row number)
    cells: list[str]


@dataclass
class Reader:
    """A pass over the file: its header, then ``rows()`` yields each non-blank data row."""

    lines: Iterator[str]
    delimiter: str = ","
    columns: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, chunks: Iterable[bytes], encoding: str) -> Reader:
        lines = decoded_lines(chunks, encoding)
        first = next(lines, None)
        if first is None or not first.strip():
            raise ImportFileError("empty")
        delimiter = sniff_delimiter(first)
        reader = cls(lines=_chain_first(first, lines), delimiter=delimiter)
        return reader

    def rows(self) -> Iterator[RawRow]:
        records = csv.reader(self.lines, delimiter=self.delimiter, strict=True)
        header_read = False
        try:
            for cells in records:
                if not header_read:
                    self.columns = columns_from_header(cells)
                    header_read = True
                    continue
                if not any(cell.strip() for cell in cells):
                    continue
                yield RawRow(line=records.line_num, cells=cells)
        except csv.Error:
            raise ImportFileError("malformed", line=records.line_num) from None
        if not header_read:
            raise ImportFileError("empty")


def _chain_first(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


@dataclass(frozen=True)
class FileInfo:
    encoding: str
    delimiter: str
    columns: list[str]
    rows: int


def inspect(open_chunks: Callable[[], Iterable[bytes]], *, max_rows: int) -> FileInfo:
    """Read the whole file once per encoding tried: its encoding, delimiter, columns, row count.

    ``open_chunks`` gives a fresh iterable of the file's bytes on each call.
    """
    for encoding in ENCODINGS:
        try:
            reader = Reader.open(open_chunks(), encoding)
            rows = 0
            for _row in reader.rows():
                rows += 1
                if rows > max_rows:
                    raise ImportFileError("too_many_rows", max=f"{max_rows:,}")
        except UnicodeDecodeError:
            continue
        if rows == 0:
            raise ImportFileError("no_rows")
        return FileInfo(encoding=encoding, delimiter=reader.delimiter, columns=reader.columns,
                        rows=rows)
    raise ImportFileError("encoding")


# --- One row's values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowValues:
    """A row as the file asks: "" where a cell is empty or its column absent."""

    line: int
    email: str
    name: str = ""
    role: str = ""
    language: str = ""
    timezone: str = ""
    action: str = ""  # "" = create or update, whichever applies
    error_code: str = ""
    error_params: dict[str, object] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1]


@functools.cache
def _timezones() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@functools.cache
def timezone_names() -> frozenset[str]:
    """Every zone name of the zone database, read once per process."""
    return frozenset(_timezones().values())


@functools.cache
def _roles() -> dict[str, str]:
    roles = {value: value for value in Role.values}
    roles.update({str(label).lower(): value for value, label in Role.choices})
    roles.update(_ROLE_ALIASES)
    return roles


def _languages() -> dict[str, str]:
    codes = {code.lower(): code for code, _name in settings.LANGUAGES}
    aliases = {alias: code for alias, code in _LANGUAGE_ALIASES.items() if code.lower() in codes}
    return {**codes, **aliases}


def _error(line: int, email: str, code: str, **params: object) -> RowValues:
    return RowValues(line=line, email=email[:254], error_code=code, error_params=params)


COLUMN_LABELS: dict[str, object] = {
    "email": _("e-mail"), "name": _("name"), "role": _("role"), "language": _("language"),
    "timezone": _("time zone"), "action": _("action"),
}


def row_values(row: RawRow, columns: list[str]) -> RowValues:
    """Clean one row's cells; a ``RowValues`` with ``error_code`` set when the row is refused."""
    cells = dict(zip(columns, row.cells, strict=False))
    raw_email = (cells.get("email") or "").strip()
    extra = [cell for cell in row.cells[len(columns):] if cell.strip()]
    extra += [value for name, value in cells.items() if name == "" and value.strip()]
    if extra:
        return _error(row.line, raw_email, "extra_cells", cells=len(row.cells),
                      columns=len([c for c in columns if c]))
    for name in COLUMNS:
        value = cells.get(name) or ""
        stripped = value.strip()
        if value[:1] in FORMULA_STARTS or stripped[:1] in FORMULA_STARTS[:4]:
            char = stripped[:1] if stripped[:1] in FORMULA_STARTS else value[:1]
            return _error(row.line, raw_email, "formula", column=str(COLUMN_LABELS[name]),
                          char={"\t": "Tab", "\r": "CR"}.get(char, char))
    if not raw_email:
        return _error(row.line, "", "missing_email")
    email = normalize_email(raw_email)
    try:
        validate_email(email)
    except ValidationError:
        return _error(row.line, raw_email, "bad_email", value=raw_email[:254])
    name = " ".join((cells.get("name") or "").split())
    if len(name) > NAME_MAX:
        return _error(row.line, email, "name_too_long")
    role = ""
    if raw := (cells.get("role") or "").strip():
        role = _roles().get(raw.lower(), "")
        if not role:
            return _error(row.line, email, "unknown_role", value=raw[:40])
    language = ""
    if raw := (cells.get("language") or "").strip():
        language = _languages().get(raw.lower(), "")
        if not language:
            return _error(row.line, email, "unknown_language", value=raw[:40])
    timezone = ""
    if raw := (cells.get("timezone") or "").strip():
        timezone = _timezones().get(raw.lower(), "")
        if not timezone:
            return _error(row.line, email, "unknown_timezone", value=raw[:64])
    action = ""
    if raw := (cells.get("action") or "").strip():
        action = ACTIONS.get(raw.lower(), "")
        if not action:
            return _error(row.line, email, "unknown_action", value=raw[:40])
    return RowValues(line=row.line, email=email, name=name, role=role, language=language,
                     timezone=timezone, action=action)


def template_csv() -> str:
    """The downloadable template: the header and two example rows."""
    return (
        ",".join(TEMPLATE_HEADER) + "\r\n"
        + "lin.wei@example.com,林伟,member,zh-hans,Asia/Shanghai,\r\n"
        + "sam.lee@example.com,Sam Lee,helpdesk,en,Europe/London,update\r\n"
    )
