"""The README describes the product on its own: every file it names is in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"`([A-Za-z0-9_./-]+\.(?:md|py|yaml|toml|txt|html|cfg))`")


def _named_files(text: str) -> set[str]:
    return {name for name in NAMED.findall(text) if "/" in name or name.endswith(".md")}


def test_every_file_the_readme_names_exists():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in _named_files(text) if not (ROOT / name).exists())
    assert missing == [], f"the README names files that are not in the repository: {missing}"


def test_the_check_catches_a_missing_file():
    named = _named_files("See `DESIGN.md` and `tenants/models.py`, and `no/such/module.py`.")
    assert {n for n in named if not (ROOT / n).exists()} == {"DESIGN.md", "no/such/module.py"}


def test_the_readme_says_what_the_product_is_and_how_it_is_built():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for heading in ("## What it is", "## Architecture", "### Layers", "## Tests"):
        assert heading in text
    # The layers the README draws are the contract's, in the same order.
    contract = (ROOT / ".importlinter").read_text(encoding="utf-8")
    layers = re.search(r"layers =\n((?:    .+\n)+)", contract).group(1).split("\n")
    drawn = re.search(r"### Layers.*?```\n(.*?)```", text, re.S).group(1).splitlines()
    assert [line.strip() for line in layers if line.strip()] == [
        re.split(r"\s{2,}", line.strip())[0] for line in drawn if line.strip()]
