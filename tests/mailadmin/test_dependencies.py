"""Runtime dependencies are what runs: each distribution in pyproject's ``[project]
dependencies`` is imported by the product code, named in a dotted string the code hands to a
loader (INSTALLED_APPS, MIDDLEWARE, STORAGES…), or on a short list of ones loaded otherwise.
A library only tests or benchmarks use belongs in the dev lock."""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ["tenants", "notifications", "accounts", "activity", "security", "alerts", "retention", "people", "me",
           "mailadmin", "manage.py"]
SKIPPED_DIRS = {"tests", "bench", "__pycache__"}

# Loaded without an import or dotted name in our code. Keep each reason; an entry that becomes
# imported, or stops being a dependency, fails the last test.
LOADED_OTHERWISE = {
    "gunicorn": "the image's command (docker/) serves the WSGI app with it",
    "psycopg": "Django's postgresql backend, which DATABASE_URL selects through dj-database-url",
    "argon2-cffi": "Django's Argon2PasswordHasher, first in PASSWORD_HASHERS",
}


def runtime_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(Requirement(spec).name) for spec in project["dependencies"]}


def import_names() -> dict[str, set[str]]:
    """Each installed distribution (canonical name) → the top-level modules it provides."""
    names: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            names.setdefault(canonicalize_name(distribution), set()).add(module)
    return names


def _product_files() -> list[Path]:
    files = []
    for entry in PRODUCT:
        path = ROOT / entry
        candidates = [path] if path.is_file() else path.rglob("*.py")
        files += [f for f in candidates if not SKIPPED_DIRS & set(f.relative_to(ROOT).parts)]
    return files


_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def _names_a_module(value: str) -> bool:
    """``value`` is a module ("django_otp") or a module's attribute ("whitenoise.storage.X")."""
    with contextlib.suppress(ImportError, ValueError):
        if importlib.util.find_spec(value) is not None:
            return True
    module, _, attribute = value.rpartition(".")
    with contextlib.suppress(ImportError, ValueError):
        return bool(module) and hasattr(importlib.import_module(module), attribute)
    return False


def product_references(candidates: set[str]) -> set[str]:
    """Which of the top-level modules ``candidates`` the product code imports (at any depth) or
    names in a string it hands to a loader ("whitenoise.middleware.WhiteNoiseMiddleware")."""
    found: set[str] = set()
    for file in _product_files():
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), filename=str(file))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and _DOTTED.fullmatch(node.value) and node.value.split(".")[0] in candidates
                  and _names_a_module(node.value)):
                found.add(node.value.split(".")[0])
    return found & candidates


def unused(distributions: set[str]) -> set[str]:
    """The distributions whose modules the product code never references."""
    modules = import_names()
    missing = {d for d in distributions if d not in modules}
    assert not missing, f"not installed, so their modules are unknown: {sorted(missing)}"
    referenced = product_references(set().union(*(modules[d] for d in distributions)))
    return {d for d in distributions if not modules[d] & referenced}


def test_every_runtime_dependency_is_used_by_the_product():
    unexplained = unused(runtime_dependencies()) - set(LOADED_OTHERWISE)
    assert unexplained == set(), (
        f"{sorted(unexplained)}: no product code imports or names these; move them to the dev "
        "lock, or add them to LOADED_OTHERWISE with how they are loaded")


def test_the_check_finds_a_library_only_tests_use():
    # user-agents is in the dev lock: tests and the capture benchmark compare against it.
    assert canonicalize_name("user-agents") not in runtime_dependencies()
    assert unused(runtime_dependencies() | {"user-agents"}) - set(LOADED_OTHERWISE) == {"user-agents"}


def test_the_allowlist_holds_only_dependencies_nothing_imports():
    dependencies = runtime_dependencies()
    assert set(LOADED_OTHERWISE) <= dependencies, set(LOADED_OTHERWISE) - dependencies
    assert unused(set(LOADED_OTHERWISE)) == set(LOADED_OTHERWISE), (
        "imported or named by the product now: drop from LOADED_OTHERWISE")
