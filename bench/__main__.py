"""Run the benchmarks: every package under bench/ that exposes ``run(argv: list[str]) -> int``.

    python -m bench                  every benchmark at its documented default size (make bench)
    python -m bench --all ARGS...    every benchmark, each given ARGS (e.g. --quick)
    python -m bench NAME [ARGS...]   one benchmark; ``python -m bench NAME --help`` for its options
    python -m bench --list           the benchmarks found, one line each

``run`` is looked up in ``bench/NAME/__init__.py`` first, then ``bench/NAME/__main__.py``.
Benchmarks are not part of ``make test``; see bench/README.md for the method.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
Runner = Callable[[list[str]], int]
USAGE = (__doc__ or "").split("\n\n")[1]


def benchmark_names() -> list[str]:
    """Packages under bench/ (with __init__.py or __main__.py), in name order.

    ``_private`` directories and ``results`` are skipped.
    """
    return sorted(
        path.name for path in BENCH_DIR.iterdir()
        if path.is_dir() and path.name.isidentifier() and not path.name.startswith("_")
        and path.name != "results"
        and ((path / "__init__.py").is_file() or (path / "__main__.py").is_file())
    )


def _runner_module(name: str) -> ModuleType | None:
    for module_name in (f"bench.{name}", f"bench.{name}.__main__"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        if callable(getattr(module, "run", None)):
            return module
    return None


def load(name: str) -> tuple[Runner, str]:
    """The benchmark's ``run`` and the first line of its docstring."""
    module = _runner_module(name)
    if module is None:
        raise LookupError(f"bench/{name} has no run(argv) in __init__.py or __main__.py")
    package = sys.modules[f"bench.{name}"]
    doc = (package.__doc__ or module.__doc__ or "").strip().splitlines()
    return module.run, (doc[0] if doc else "")


def _is_benchmark(name: str) -> bool:
    """False only for a package without ``run``; one that fails to import counts (and fails)."""
    try:
        load(name)
    except LookupError:
        return False
    except Exception:
        return True
    return True


def list_benchmarks() -> int:
    names = benchmark_names()
    if not names:
        print("No benchmarks yet: add a package bench/NAME/ with run(argv: list[str]) -> int.")
        return 0
    width = max(len(n) for n in names)
    for name in names:
        try:
            _run, summary = load(name)
        except LookupError:
            summary = "(no run(argv): not a benchmark, skipped)"
        except Exception as exc:  # show the broken one, keep listing the rest
            summary = f"(broken: {exc.__class__.__name__}: {exc})"
        print(f"{name.ljust(width)}  {summary}")
    return 0


def run_one(name: str, argv: list[str]) -> int:
    if name not in benchmark_names():
        print(f"Unknown benchmark {name!r}. Available: {', '.join(benchmark_names()) or 'none'}.",
              file=sys.stderr)
        return 2
    run, _summary = load(name)
    return int(run(argv) or 0)


def run_all(argv: list[str]) -> int:
    names = benchmark_names()
    if not names:
        return list_benchmarks()
    failed: list[str] = []
    for name in names:
        if not _is_benchmark(name):
            continue  # a helper package, not a benchmark
        print(f"\n=== bench {name} {' '.join(argv)}".rstrip(), flush=True)
        start = time.perf_counter()
        try:
            code = run_one(name, list(argv))
        except Exception as exc:  # one broken benchmark must not hide the others' results
            print(f"bench {name} raised {exc.__class__.__name__}: {exc}", file=sys.stderr)
            code = 1
        print(f"=== bench {name}: exit {code} in {time.perf_counter() - start:.1f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if not argv:
        return run_all([])
    head, rest = argv[0], argv[1:]
    if head in {"-h", "--help"}:
        print(USAGE)
        return 0
    if head == "--list":
        return list_benchmarks()
    if head == "--all":
        return run_all(rest)
    if head.startswith("-"):
        print(f"Unknown option {head}.\n{USAGE}", file=sys.stderr)
        return 2
    return run_one(head, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
