"""The Simplified Chinese catalogue is complete: every string marked in the sources has a
translation that is not a fuzzy guess, with the msgid's placeholders and tags, and in the
glossary's terms (locale/GLOSSARY.md).

Completeness is judged against the sources as they are now, not against the committed .po: the
sources are extracted again (Django's makemessages, exactly as ``make messages`` runs it) into a
copy of the catalogue in a temporary directory, so a string added without running
``make messages`` fails here too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.i18n import po

BASE_DIR = Path(settings.BASE_DIR)
CATALOGUE = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# As `make messages`: templates and Python of the apps, not tests, benchmarks or build output.
SKIPPED = {"locale", "tests", "bench", "node_modules", "var", "docs", "requirements", "docker"}
_EXTRACT = """
import sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
settings.LOCALE_PATHS = [sys.argv[1]]
call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, symlinks=True, verbosity=0)
"""


def extract(tmp_path: Path, *, extra_sources: dict[str, str] | None = None) -> list[po.Entry]:
    """The catalogue merged with what the sources mark now (new strings untranslated)."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for child in BASE_DIR.iterdir():
        if child.name not in SKIPPED and not child.name.startswith("."):
            (tree / child.name).symlink_to(child)
    for name, text in (extra_sources or {}).items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    (out / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(CATALOGUE, out / "zh_Hans" / "LC_MESSAGES" / "django.po")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mailadmin.settings"}
    subprocess.run([sys.executable, "-c", _EXTRACT, str(out)], cwd=tree, env=env, check=True)
    return po.load(out / "zh_Hans" / "LC_MESSAGES" / "django.po")


def _describe(entries: list[po.Entry]) -> list[str]:
    return [("fuzzy: " if e.fuzzy else "missing: ") + e.msgid[:80] for e in entries]


def test_every_string_in_the_sources_is_translated(tmp_path):
    entries = extract(tmp_path)
    assert len(entries) > 1000, "the extraction found almost nothing: is it reading the sources?"
    assert _describe(po.untranslated(entries)) == [], (
        "run `make messages`, translate the new entries (locale/README.md) and commit the .po")


def test_a_new_string_without_translation_fails_the_check(tmp_path):
    source = ('from django.utils.translation import gettext as _\n'
              'MESSAGE = _("A sentence nobody has translated yet.")\n')
    entries = extract(tmp_path, extra_sources={"newapp/messages.py": source})
    assert _describe(po.untranslated(entries)) == ["missing: A sentence nobody has translated yet."]


def test_the_committed_catalogue_has_no_missing_or_fuzzy_entry():
    entries = po.load(CATALOGUE)
    assert _describe(po.untranslated(entries)) == []
    header = entries[0].msgstr[0]
    assert "Language: zh_Hans" in header
    assert "Plural-Forms: nplurals=1; plural=0;" in header


def test_translations_keep_placeholders_and_tags():
    wrong = {}
    for entry in po.load(CATALOGUE):
        if entry.is_header:
            continue
        for text in entry.msgstr.values():
            issues = po.problems(entry.msgid_plural or entry.msgid, text)
            if issues:
                wrong[entry.msgid[:60]] = issues
    assert wrong == {}


def test_gettext_accepts_the_catalogue(tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext's msgfmt is missing: run scripts/system-deps --gettext"
    result = subprocess.run([msgfmt, "--check", "-o", str(tmp_path / "django.mo"), str(CATALOGUE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# One term per concept (locale/GLOSSARY.md): the synonyms a translator might reach for.
CHINESE_SYNONYMS = {
    "两步验证": ["双因素", "多因素", "双重验证", "二次验证", "两步认证"],
    "告警": ["警报"],
    "审计日志": ["审核日志", "审计跟踪"],
    "允许的网络": ["白名单"],
    "会话": ["对话"],
    "通行密钥": ["Passkey", "万能钥匙"],
    "备用码": ["恢复码", "备份码"],
    "法律保留": ["诉讼保留"],
}
ENGLISH_SYNONYMS = ["two-factor", "MFA requirement", "2FA", "multi-factor"]


@pytest.mark.parametrize(("term", "synonyms"), CHINESE_SYNONYMS.items())
def test_chinese_uses_the_glossary_term(term, synonyms):
    used = [(entry.msgid[:50], word) for entry in po.load(CATALOGUE) if not entry.is_header
            for text in entry.msgstr.values() for word in synonyms if word in text]
    assert used == [], f"the glossary says {term}"


def test_english_names_two_step_sign_in_once():
    used = [(entry.msgid[:60], word) for entry in po.load(CATALOGUE) if not entry.is_header
            for word in ENGLISH_SYNONYMS
            if word.lower() in (entry.msgid + (entry.msgid_plural or "")).lower()]
    assert used == [], "the glossary says two-step sign-in"
