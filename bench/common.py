"""Helpers every benchmark shares: timing, statistics, machine details, a results table.

Method (bench/README.md): the baseline and our implementation run side by side in one process,
on the same machine and the same data, interleaved so drift (thermal, caches, a noisy
neighbour) hits both alike; each reports the median over repeats, and the table gives the
ratio baseline / ours (above 1: ours is faster).

Run ``python -m bench.common`` for a self-contained demonstration of every helper.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


# --- timing -------------------------------------------------------------------------------------
def time_once_ns(fn: Callable[[], object]) -> int:
    """Wall time of one call, in nanoseconds."""
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def time_ns(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> list[int]:
    """``repeat`` timed calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    return [time_once_ns(fn) for _ in range(repeat)]


# --- statistics ---------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def p95(values: Sequence[float]) -> float:
    """95th percentile by nearest rank (with few samples this is the maximum, as it should be)."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)])


@dataclass(frozen=True)
class Stats:
    samples_ns: tuple[int, ...]

    @property
    def median_ns(self) -> float:
        return median(self.samples_ns)

    @property
    def p95_ns(self) -> float:
        return p95(self.samples_ns)

    @property
    def min_ns(self) -> int:
        return min(self.samples_ns)


@dataclass(frozen=True)
class Comparison:
    """One measured operation: baseline and ours on the same input."""

    name: str
    baseline: Stats
    ours: Stats
    note: str = ""

    @property
    def ratio(self) -> float:
        """Baseline median / our median: 2.0 means ours takes half the time."""
        return self.baseline.median_ns / self.ours.median_ns if self.ours.median_ns else math.inf


def compare(
    name: str,
    baseline: Callable[[], object],
    ours: Callable[[], object],
    *,
    repeat: int = 5,
    warmup: int = 1,
    note: str = "",
) -> Comparison:
    """Time both, interleaved (baseline, ours, baseline, ours, ...), after warming both up."""
    for _ in range(warmup):
        baseline()
        ours()
    base_samples: list[int] = []
    our_samples: list[int] = []
    for _ in range(repeat):
        base_samples.append(time_once_ns(baseline))
        our_samples.append(time_once_ns(ours))
    return Comparison(name, Stats(tuple(base_samples)), Stats(tuple(our_samples)), note)


# --- formatting ---------------------------------------------------------------------------------
def format_ns(ns: float) -> str:
    """A duration with a readable unit: ``812 ns``, ``3.41 ms``, ``2.05 s``."""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.0f} ns"


def format_ratio(ratio: float) -> str:
    return "∞" if math.isinf(ratio) else f"{ratio:.2f}x"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table; numbers are right-aligned."""
    text_rows = [[str(cell) for cell in row] for row in rows]
    numeric = [
        all(_looks_numeric(row[i]) for row in text_rows) if text_rows else False
        for i in range(len(headers))
    ]
    widths = [max([len(h)] + [len(row[i]) for row in text_rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2))
                          for w, num in zip(widths, numeric, strict=True)) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in text_rows)])


def _looks_numeric(cell: str) -> bool:
    head = cell.split(" ")[0].rstrip("x%")
    try:
        float(head.replace(",", ""))
    except ValueError:
        return cell == "∞"
    return True


def comparison_table(results: Sequence[Comparison]) -> str:
    """Baseline vs ours: medians, p95s, and the ratio of medians."""
    headers = ["operation", "baseline median", "baseline p95", "ours median", "ours p95",
               "baseline / ours", "runs"]
    rows = [
        [r.name + (f" ({r.note})" if r.note else ""), format_ns(r.baseline.median_ns),
         format_ns(r.baseline.p95_ns), format_ns(r.ours.median_ns), format_ns(r.ours.p95_ns),
         format_ratio(r.ratio), len(r.ours.samples_ns)]
        for r in results
    ]
    return markdown_table(headers, rows)


# --- the machine --------------------------------------------------------------------------------
def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for row in cpuinfo:
                if row.lower().startswith(("model name", "hardware", "cpu model")):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            for row in meminfo:
                if row.startswith("MemTotal:"):
                    return f"{int(row.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def machine_info() -> dict[str, str]:
    """What a reader needs to judge the numbers: CPUs, memory, OS, Python, Django."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus (usable / online)": f"{usable} / {os.cpu_count()}",
        "cpu model": _cpu_model(),
        "memory": _memory(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "django": _version("django"),
    }


def machine_report(extra: dict[str, str] | None = None) -> str:
    """Machine details as a markdown list, to print above every results table."""
    info = machine_info() | (extra or {})
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


# --- command line -------------------------------------------------------------------------------
def standard_arguments(parser: argparse.ArgumentParser, *, repeat: int = 5) -> argparse.ArgumentParser:
    """The options every benchmark accepts: ``--repeat``, ``--warmup`` and ``--quick``."""
    parser.add_argument("--repeat", type=int, default=repeat, help=f"timed runs each (default {repeat})")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repeats: checks the benchmark works, proves nothing")
    return parser


def _demo(argv: list[str]) -> int:
    args = standard_arguments(argparse.ArgumentParser(prog="python -m bench.common")).parse_args(argv)
    size = 2_000 if args.quick else 200_000
    data = [(i * 7919) % size for i in range(size)]
    results = [
        compare("sort", lambda: sorted(data, key=lambda v: v), lambda: sorted(data),
                repeat=args.repeat, warmup=args.warmup, note=f"{size:,} ints"),
        compare("sum", lambda: sum(v for v in data), lambda: sum(data),
                repeat=args.repeat, warmup=args.warmup, note=f"{size:,} ints"),
    ]
    print("## bench.common demo\n")
    print(machine_report())
    print()
    print(comparison_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(_demo(sys.argv[1:]))


def django_on_postgres(database_url: str, *, conn_max_age: int = 3600) -> None:
    """Set Django up against a benchmark's throwaway PostgreSQL and migrate it.

    The environment is the test harness's production-like one (DEBUG off, eager Celery, no
    Redis: the local-memory cache), so a benchmark measures what a worker runs.
    """
    import os

    from tests.harness import _test_environment

    os.environ.pop("REDIS_URL", None)
    env = _test_environment(database_url, "")
    env.pop("REDIS_URL")
    env["DJANGO_SETTINGS_MODULE"] = "mailadmin.settings"
    # One connection for the whole run by default, as a warm worker keeps it.
    env["DATABASE_CONN_MAX_AGE"] = str(conn_max_age)
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


@contextmanager
def throwaway_postgres(prefix: str = "mailadmin-bench-") -> Iterator[tuple[str, str]]:
    """A temporary PostgreSQL cluster (the test harness's way) with an empty ``mailadmin``
    database: yields (url, server version); stopped and removed afterwards."""
    import psycopg

    from tests import harness

    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    first_cleanup = len(harness._cleanups)
    try:
        url = harness._start_postgres(workdir)
        server = url.rsplit("/", 1)[0]
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE mailadmin")
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        (workdir / "static").mkdir()
        os.environ["STATIC_ROOT"] = str(workdir / "static")
        yield url, version
    finally:
        with contextlib.suppress(Exception):  # best effort before stopping the server
            from django.db import connections

            connections.close_all()
        while len(harness._cleanups) > first_cleanup:
            cleanup = harness._cleanups.pop()
            with contextlib.suppress(Exception):
                cleanup()  # type: ignore[operator]
        shutil.rmtree(workdir, ignore_errors=True)
