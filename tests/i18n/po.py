"""A small reader and writer of gettext catalogues (.po), for the completeness tests and
``locale/translate.py``: entries with their flags, context, plural and translations, written back
with only the translations and flags changed (the rest of each entry is kept as it was)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')
_CONTINUATION = re.compile(r'^(".*")\s*$')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
_PLACEHOLDER = re.compile(r"%\([^)]+\)[sdif]|%[sdif]|\{\{[^}]*\}\}|\{[a-z_0-9]*\}")
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)[^>]*>")


def unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


def quote(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t").replace("\r", "\\r"))
    return f'"{escaped}"'


@dataclass
class Entry:
    comments: list[str] = field(default_factory=list)  # every "#" line but the flags
    flags: list[str] = field(default_factory=list)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index → text; 0 for a singular entry
    obsolete: bool = False

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(text for text in self.msgstr.values())

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    def lines(self) -> list[str]:
        # gettext's order: comments and references, then the flags, then the previous msgid.
        out = [line for line in self.comments if not line.startswith("#|")]
        if self.flags:
            out.append("#, " + ", ".join(self.flags))
        out.extend(line for line in self.comments if line.startswith("#|"))
        if self.msgctxt is not None:
            out.extend(_field("msgctxt", self.msgctxt))
        out.extend(_field("msgid", self.msgid))
        if self.msgid_plural is not None:
            out.extend(_field("msgid_plural", self.msgid_plural))
            for index in sorted(self.msgstr) or [0]:
                out.extend(_field(f"msgstr[{index}]", self.msgstr.get(index, "")))
        else:
            out.extend(_field("msgstr", self.msgstr.get(0, "")))
        return out


def _field(keyword: str, text: str) -> list[str]:
    if "\n" in text.rstrip("\n") or len(text) > 70:
        # gettext's own layout for long or multi-line strings: an empty first line.
        parts = re.findall(r".*?\n|.+$", text)
        return [f'{keyword} ""', *(quote(part) for part in parts)]
    return [f"{keyword} {quote(text)}"]


def parse(text: str) -> list[Entry]:
    entries: list[Entry] = []
    current = Entry()
    last: str | None = None
    started = False

    def flush() -> None:
        nonlocal current, started, last
        if started:
            entries.append(current)
        current, started, last = Entry(), False, None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#~"):
            current.obsolete = True
            current.comments.append(raw)
            started = True
            continue
        if line.startswith("#,"):
            if last is not None:
                flush()
            current.flags.extend(flag.strip() for flag in line[2:].split(",") if flag.strip())
            started = True
            continue
        if line.startswith("#"):
            if last is not None:
                flush()
            current.comments.append(raw)
            started = True
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, literal = match.groups()
            value = unquote(literal)
            if keyword == "msgctxt":
                if last is not None:
                    flush()
                current.msgctxt = value
            elif keyword == "msgid":
                if last not in (None, "msgctxt"):
                    flush()
                current.msgid = value
            elif keyword == "msgid_plural":
                current.msgid_plural = value
            else:
                index = int(keyword[7:-1]) if "[" in keyword else 0
                current.msgstr[index] = value
            last = keyword
            started = True
            continue
        match = _CONTINUATION.match(line)
        if match and last is not None:
            value = unquote(match.group(1))
            if last == "msgctxt":
                current.msgctxt = (current.msgctxt or "") + value
            elif last == "msgid":
                current.msgid += value
            elif last == "msgid_plural":
                current.msgid_plural = (current.msgid_plural or "") + value
            else:
                index = int(last[7:-1]) if "[" in last else 0
                current.msgstr[index] = current.msgstr.get(index, "") + value
            continue
        raise ValueError(f"not a .po line: {raw!r}")
    flush()
    return entries


def load(path: Path) -> list[Entry]:
    return parse(path.read_text(encoding="utf-8"))


def dump(entries: list[Entry]) -> str:
    return "\n\n".join("\n".join(entry.lines()) for entry in entries) + "\n"


def untranslated(entries: list[Entry]) -> list[Entry]:
    """The entries a reader would see in English: no translation, or only a fuzzy guess."""
    return [entry for entry in entries
            if not entry.is_header and not entry.obsolete and (entry.fuzzy or not entry.translated)]


def problems(msgid: str, msgstr: str) -> list[str]:
    """Why a translation does not fit its msgid: its placeholders or its HTML tags differ."""
    found = []
    wanted, given = sorted(_PLACEHOLDER.findall(msgid)), sorted(_PLACEHOLDER.findall(msgstr))
    if wanted != given:
        found.append(f"placeholders {wanted} != {given}")
    if sorted(_TAG.findall(msgid)) != sorted(_TAG.findall(msgstr)):
        found.append("HTML tags differ")
    return found
