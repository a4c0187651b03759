"""Translating the catalogue in batches (see locale/README.md).

    .venv/bin/python locale/translate.py todo 150      # the next 150 untranslated entries, numbered
    .venv/bin/python locale/translate.py apply FILE    # "N | translation" lines into the catalogue
    .venv/bin/python locale/translate.py apply F.json  # {"msgid": "translation"} into the catalogue
    .venv/bin/python locale/translate.py stats         # translated / remaining

``todo`` remembers which entry each number is (var/i18n-todo.json), so ``apply`` writes each
translation to the entry it was written for even if the catalogue was regenerated in between.
A translation whose placeholders or HTML tags differ from its msgid is refused and reported.
Write ``\\n`` for a line break.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.i18n import po  # noqa: E402

CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
INDEX = ROOT / "var" / "i18n-todo.json"
HEADER = {
    "Project-Id-Version": "mailadmin",
    "Last-Translator": "mailadmin <i18n@mailadmin.invalid>",
    "Language-Team": "Simplified Chinese",
    "Language": "zh_Hans",
    "Plural-Forms": "nplurals=1; plural=0;",
}
def _show(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _read(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", "t": "\t"}.get(m.group(1), m.group(0)), text)


def _header(entries: list[po.Entry]) -> None:
    head = entries[0]
    if not head.is_header:
        return
    head.flags = [flag for flag in head.flags if flag != "fuzzy"]
    head.comments = ["# Simplified Chinese (zh-Hans) catalogue of mailadmin; terms: locale/GLOSSARY.md."]
    lines = [line for line in head.msgstr.get(0, "").split("\n") if line]
    fields = dict(line.split(": ", 1) for line in lines if ": " in line)
    fields.update(HEADER)
    fields.pop("Report-Msgid-Bugs-To", None)
    fields["PO-Revision-Date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M+0000")
    head.msgstr[0] = "".join(f"{name}: {value}\n" for name, value in fields.items())


def todo(limit: int) -> None:
    entries = po.load(CATALOGUE)
    pending = po.untranslated(entries)[:limit]
    INDEX.parent.mkdir(exist_ok=True)
    INDEX.write_text(json.dumps([[e.msgctxt, e.msgid] for e in pending], ensure_ascii=False))
    for number, entry in enumerate(pending):
        where = next((c[3:].split()[0] for c in entry.comments if c.startswith("#: ")), "")
        text = _show(entry.msgid)
        if entry.msgid_plural is not None:
            text += " || " + _show(entry.msgid_plural)
        context = f" [{entry.msgctxt}]" if entry.msgctxt else ""
        print(f"{number} | {text}{context}   ({where})")


def _numbered(path: Path) -> list[tuple[str, str | None, str, str]]:
    index = json.loads(INDEX.read_text())
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and " | " in line:
            number, text = line.split(" | ", 1)
            ctxt, msgid = index[int(number)]
            rows.append((number, ctxt, msgid, _read(text.strip())))
    return rows


def _by_msgid(path: Path) -> list[tuple[str, str | None, str, str]]:
    """A JSON object of msgid → translation (entries without a context)."""
    mapping = json.loads(path.read_text(encoding="utf-8"))
    return [(msgid[:20], None, msgid, text) for msgid, text in mapping.items()]


def apply(path: Path) -> None:
    entries = po.load(CATALOGUE)
    by_key = {entry.key: entry for entry in entries}
    done = refused = 0
    rows = _by_msgid(path) if path.suffix == ".json" else _numbered(path)
    for number, ctxt, msgid, translation in rows:
        entry = by_key.get((ctxt, msgid))
        if entry is None:
            print(f"gone from the catalogue: {number} {msgid[:60]!r}")
            continue
        if msgid.endswith("\n") and not translation.endswith("\n"):
            translation += "\n"
        # One Chinese form stands for every count: it reads the plural's placeholders.
        issues = po.problems(entry.msgid_plural or msgid, translation)
        if issues:
            refused += 1
            print(f"refused {number}: {'; '.join(issues)}\n  {msgid[:100]!r}\n  {translation[:100]!r}")
            continue
        entry.msgstr = {0: translation}
        entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
        # The msgid a fuzzy guess was made from means nothing once the entry is translated.
        entry.comments = [line for line in entry.comments if not line.startswith("#|")]
        done += 1
    for entry in entries:
        if not entry.fuzzy:
            entry.comments = [line for line in entry.comments if not line.startswith("#|")]
    _header(entries)
    CATALOGUE.write_text(po.dump(entries), encoding="utf-8")
    # gettext's own layout, as makemessages writes it, so a later run changes only what changed.
    subprocess.run(["msgcat", "-o", str(CATALOGUE), str(CATALOGUE)], check=True)  # noqa: S603, S607
    print(f"applied {done}, refused {refused}")


def stats() -> None:
    entries = [e for e in po.load(CATALOGUE) if not e.is_header and not e.obsolete]
    remaining = len(po.untranslated(entries))
    print(f"{len(entries) - remaining} translated, {remaining} remaining, {len(entries)} in all")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "stats"
    if command == "todo":
        todo(int(sys.argv[2]) if len(sys.argv) > 2 else 150)
    elif command == "apply":
        apply(Path(sys.argv[2]))
    else:
        stats()
