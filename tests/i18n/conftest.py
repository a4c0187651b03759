"""The Chinese pages need the compiled catalogue: ``make test`` builds it (compilemessages); a
bare ``pytest`` run gets it here, so these tests never judge a stale or missing ``.mo``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import reloader

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogue() -> Path:
    compiled = CATALOGUE.with_suffix(".mo")
    if not compiled.exists() or compiled.stat().st_mtime < CATALOGUE.stat().st_mtime:
        msgfmt = shutil.which("msgfmt")
        assert msgfmt, "gettext's msgfmt is missing: run scripts/system-deps --gettext"
        subprocess.run([msgfmt, "--check", "-o", str(compiled), str(CATALOGUE)], check=True)
        # Django caches catalogues per process; forget them so the fresh one is read.
        reloader.translation_file_changed(sender=None, file_path=compiled)
    return compiled
