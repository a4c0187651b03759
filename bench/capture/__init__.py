"""Capture: User-Agent → browser/OS/device, ours (ua-parser 1.0 Rust + LRU) vs user_agents.parse.

Data: ``../shared/data/user_agents.txt`` next to the project (read at run time, never copied),
one User-Agent a line, about 30,000 distinct strings.

1. **cold** — every string once, from nothing: our run includes building the Rust parser and
   starts with an empty result cache; the baseline starts with user-agents' (ua-parser's legacy)
   cache emptied.
2. **replay** — ``--events`` (default 1,000,000) events drawn from the file with a Zipf
   distribution (rank weights ``1/rank^s``, ``--zipf-s`` default 1.0, ranks shuffled with a fixed
   seed), as a long-running process sees them: our parser already built, both caches empty at
   the start of each run. An extra row runs the baseline behind an LRU of our size, to show what
   the parser (not the cache) contributes.

Both sides do the same work per string: browser family and version, OS family and version,
device type (bot / tablet / mobile / desktop / other, user-agents' rules). Before timing, the
answers are compared on the whole file; the run fails if device types disagree on more than
0.1% of strings (see tests/activity/test_user_agent.py for the known differences).

A full default run takes several minutes, nearly all of it the baseline replay (~350 µs an
event on a 2-vCPU Xeon); the baseline replay is therefore timed ``--baseline-repeat`` times
(default 1), everything else ``--repeat`` times. ``--quick`` runs a smoke size.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "data" / "user_agents.txt"
TARGETS = {"cold": 10.0, "replay": 50.0}
MAX_DISAGREEMENT_RATE = 0.001


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
    import django

    django.setup()


def _their_device_type(ua: Any) -> str:
    if ua.is_bot:
        return "bot"
    if ua.is_tablet:
        return "tablet"
    if ua.is_mobile:
        return "mobile"
    if ua.is_pc:
        return "desktop"
    return "other"


def baseline_capture(ua: str) -> tuple[str, str, str, str, str]:
    """What a straightforward implementation stores, through user_agents.parse."""
    import user_agents

    parsed = user_agents.parse(ua)
    return (parsed.browser.family, parsed.browser.version_string, parsed.os.family,
            parsed.os.version_string, _their_device_type(parsed))


def ours_capture(ua: str) -> tuple[str, str, str, str, str]:
    from activity.capture import parse_user_agent

    agent = parse_user_agent(ua)
    return (agent.browser_family, agent.browser_version, agent.os_family, agent.os_version,
            str(agent.device_type))


def _baseline_cache_clear() -> None:
    from ua_parser import user_agent_parser

    user_agent_parser._PARSE_CACHE.clear()  # user-agents' only cache (200 entries)


def zipf_events(lines: Sequence[str], count: int, *, s: float, seed: int) -> list[str]:
    rng = random.Random(seed)
    ranked = list(lines)
    rng.shuffle(ranked)
    cum_weights = list(itertools.accumulate(1.0 / (rank ** s) for rank in range(1, len(ranked) + 1)))
    return rng.choices(ranked, cum_weights=cum_weights, k=count)


def _check_answers(lines: Sequence[str]) -> tuple[int, int]:
    """(device-type disagreements, family disagreements) between baseline and ours."""
    from activity.capture import parser_reset

    parser_reset()
    devices = families = 0
    for line in lines:
        theirs, ours = baseline_capture(line), ours_capture(line)
        devices += theirs[4] != ours[4]
        families += (theirs[0], theirs[2]) != (ours[0], ours[2])
    return devices, families


def _run_all(capture: Callable[[str], object], events: Sequence[str]) -> None:
    for ua in events:
        capture(ua)


def run(argv: list[str]) -> int:
    from bench import common

    parser = common.standard_arguments(argparse.ArgumentParser(
        prog="python -m bench capture", description=(__doc__ or "").splitlines()[0]), repeat=5)
    parser.add_argument("--events", type=int, default=1_000_000,
                        help="replayed events (default 1,000,000)")
    parser.add_argument("--baseline-repeat", type=int, default=1,
                        help="timed runs of the (slow) baseline replay (default 1)")
    parser.add_argument("--zipf-s", type=float, default=1.0, help="Zipf exponent (default 1.0)")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cache-size", type=int, default=None,
                        help="our result cache's size (default: MAILADMIN_UA_CACHE_SIZE)")
    args = parser.parse_args(argv)

    _setup_django()
    from django.conf import settings

    if args.cache_size is not None:
        settings.MAILADMIN_UA_CACHE_SIZE = args.cache_size  # read when the parser is built

    from activity.capture import parser_reset
    from activity.capture.useragent import DEFAULT_CACHE_SIZE

    lines = args.corpus.read_text(encoding="utf-8", errors="replace").splitlines()
    events_n, repeat, base_repeat, cold_lines = args.events, args.repeat, args.baseline_repeat, lines
    if args.quick:
        events_n, repeat, base_repeat, cold_lines = 20_000, 1, 1, lines[::15]
    cache_size = int(getattr(settings, "MAILADMIN_UA_CACHE_SIZE", DEFAULT_CACHE_SIZE))

    devices, families = _check_answers(lines)
    agreement_ok = devices / len(lines) <= MAX_DISAGREEMENT_RATE
    events = zipf_events(lines, events_n, s=args.zipf_s, seed=args.seed)

    def cold_baseline() -> None:
        _baseline_cache_clear()
        _run_all(baseline_capture, cold_lines)

    def cold_ours() -> None:
        parser_reset()  # rebuild the Rust parser too: a process's first requests
        _run_all(ours_capture, cold_lines)

    def replay_baseline() -> None:
        _baseline_cache_clear()
        _run_all(baseline_capture, events)

    def replay_ours() -> None:
        parser_reset(keep_parser=True)
        _run_all(ours_capture, events)

    def replay_baseline_lru() -> None:
        _baseline_cache_clear()
        _run_all(functools.lru_cache(maxsize=cache_size)(baseline_capture), events)

    cold = common.compare("cold", cold_baseline, cold_ours, repeat=repeat, warmup=0)
    for _ in range(args.warmup):  # warm the interpreter and the Rust parser, not the caches
        replay_ours()
    ours_samples = [common.time_once_ns(replay_ours) for _ in range(repeat)]
    base_samples = [common.time_once_ns(replay_baseline) for _ in range(base_repeat)]
    lru_samples = [common.time_once_ns(replay_baseline_lru) for _ in range(base_repeat)]

    rows = [
        ("cold: every string once", len(cold_lines), cold.baseline.samples_ns, cold.ours.samples_ns,
         TARGETS["cold"]),
        (f"replay: Zipf s={args.zipf_s:g}", len(events), tuple(base_samples), tuple(ours_samples),
         TARGETS["replay"]),
        (f"replay, baseline behind an LRU({cache_size})", len(events), tuple(lru_samples),
         tuple(ours_samples), None),
    ]
    table = []
    for name, n, base, ours, target in rows:
        b, o = common.median(base), common.median(ours)
        ratio = b / o
        verdict = "" if target is None else (f"≥{target:g}x met" if ratio >= target
                                              else f"≥{target:g}x MISSED")
        table.append([name, f"{n:,}", common.format_ns(b), f"{n / (b / 1e9):,.0f}/s",
                      common.format_ns(o), f"{n / (o / 1e9):,.0f}/s", common.format_ratio(ratio),
                      f"{len(base)}/{len(ours)}", verdict])

    print("## bench capture\n")
    print(common.machine_report({
        "corpus": f"{args.corpus} ({len(lines):,} strings)",
        "ua-parser / ua-parser-rs / user-agents": " / ".join(
            common._version(p) for p in ("ua-parser", "ua-parser-rs", "user-agents")),
        "our result cache": f"LRU, {cache_size:,} entries (MAILADMIN_UA_CACHE_SIZE)",
        "unique strings in the replay": f"{len(set(events)):,}",
        "answers": (f"device type differs on {devices} of {len(lines):,} strings, "
                    f"browser/OS family on {families}"),
    }))
    print()
    print(common.markdown_table(
        ["case", "strings", "baseline median", "baseline rate", "ours median", "ours rate",
         "baseline / ours", "runs (b/o)", "target"],
        table,
    ))
    if not agreement_ok:
        print(f"\nFAILED: device types disagree on {devices} strings (> {MAX_DISAGREEMENT_RATE:.1%})",
              file=sys.stderr)
        return 1
    return 0
