"""The time zones a person chooses from: one per place, grouped by region, labelled for people.

``zoneinfo.available_timezones()`` has ~600 names, a quarter of them aliases and legacy names
(``PRC``, ``US/Pacific``, ``Etc/GMT+8``, ``SystemV/…``, ``Asia/Chongqing``) that make the list
long and ambiguous. The tz database's own ``zone.tab`` lists the zones meant for people, one or
more per country (``Asia/Shanghai`` for China), so that is the list, read from the same tz data
``zoneinfo`` uses. Without that file (a stripped system) the ``Z`` lines of ``tzdata.zi`` (zones,
never links) are used, and without both the region-prefixed names of ``available_timezones()``.
``UTC`` is kept as its own choice: many companies keep their logs in it.

Labels are the city (``America/Argentina/Buenos_Aires`` → "Buenos Aires, Argentina") and the
offset now ("UTC+08:00"), so typing the city's first letters in the list finds it. Offsets are
computed per call (they change with daylight saving time); the names are read once per process.
"""

from __future__ import annotations

import functools
import importlib.resources
import zoneinfo
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

UTC_NAME = "UTC"

# The tz database's regions, in the order the list shows them.
REGIONS: dict[str, Promise] = {
    "Africa": _("Africa"),
    "America": _("Americas"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic Ocean"),
    "Australia": _("Australia"),
    "Europe": _("Europe"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific Ocean"),
}

Choice = tuple[str, str]
Group = tuple[str, list[Choice]]


def _tz_files(name: str) -> Iterator[str]:
    """The text of ``name`` in each tz data directory ``zoneinfo`` reads, then in ``tzdata``."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / name
        if path.is_file():
            yield path.read_text(encoding="utf-8")
    try:
        yield importlib.resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return


def _zone_tab_names(text: str) -> set[str]:
    # Lines: country code, coordinates, zone name[, comment]; "#" starts a comment line.
    return {fields[2] for line in text.splitlines()
            if line and not line.startswith("#") and len(fields := line.split("\t")) >= 3}


def _tzdata_zi_names(text: str) -> set[str]:
    # "Z <name> …" declares a zone; "L <target> <alias>" a link, which is left out.
    return {line.split()[1] for line in text.splitlines() if line.startswith("Z ")}


def _in_region(name: str) -> bool:
    return name.split("/", 1)[0] in REGIONS and "/" in name


@functools.cache
def curated_names() -> frozenset[str]:
    """Every zone of the list (``UTC`` included), each loadable by ``zoneinfo``."""
    available = zoneinfo.available_timezones()
    names: set[str] = set()
    for reader, file_name in ((_zone_tab_names, "zone.tab"), (_tzdata_zi_names, "tzdata.zi")):
        for text in _tz_files(file_name):
            names = reader(text)
            if names:
                break
        if names:
            break
    if not names:
        names = set(available)
    names = {name for name in names if _in_region(name) and name in available}
    return frozenset(names | {UTC_NAME})


def city_label(name: str) -> str:
    """``Asia/Shanghai`` → "Shanghai"; ``America/Argentina/Buenos_Aires`` → "Buenos Aires, Argentina"."""
    parts = [part.replace("_", " ") for part in name.split("/")[1:]] or [name]
    if len(parts) == 1:
        return parts[0]
    return f"{parts[-1]}, {', '.join(reversed(parts[:-1]))}"


def offset_label(offset: timedelta | None) -> str:
    """"UTC+08:00"; west of Greenwich with a true minus sign (U+2212); "UTC" for zero."""
    seconds = int(offset.total_seconds()) if offset is not None else 0
    if seconds == 0:
        return "UTC"
    sign = "+" if seconds > 0 else "\u2212"
    hours, rest = divmod(abs(seconds), 3600)
    return f"UTC{sign}{hours:02d}:{rest // 60:02d}"


def zone_label(name: str, *, now: datetime | None = None) -> str:
    """"Shanghai (UTC+08:00)": the city and its offset at ``now``; an unknown name as it is."""
    if name == UTC_NAME:
        return str(_("UTC (Coordinated Universal Time)"))
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return name
    at = (now or timezone.now()).astimezone(zone)
    return f"{city_label(name)} ({offset_label(at.utcoffset())})"


def _sorted_choices(names: Iterable[str], now: datetime) -> list[Choice]:
    labelled = [(name, zone_label(name, now=now)) for name in names]
    return sorted(labelled, key=lambda choice: choice[1].casefold())


def timezone_choices(*, first: Iterable[str] = (), now: datetime | None = None) -> list[Choice | Group]:
    """Choices for a select: ``first`` (e.g. the company's zone) on top, then UTC, then the regions.

    A name in ``first`` that is not in the curated list (an alias saved before the list existed)
    is still offered there, so a form showing it validates until the person picks another.
    """
    now = now or timezone.now()
    names = curated_names()
    top = [name for name in dict.fromkeys(first) if name]
    choices: list[Choice | Group] = [(name, zone_label(name, now=now)) for name in top]
    if UTC_NAME not in top:
        choices.append((UTC_NAME, zone_label(UTC_NAME, now=now)))
    by_region: dict[str, list[str]] = {region: [] for region in REGIONS}
    for name in names:
        if name != UTC_NAME and name not in top:
            by_region[name.split("/", 1)[0]].append(name)
    for region, label in REGIONS.items():
        if by_region[region]:
            choices.append((str(label), _sorted_choices(by_region[region], now)))
    return choices
