"""Personal tables of the apps above retention, which the sweep purges like its own.

Retention stands below ``people`` (README, "Layers"), so it cannot name people's models. An app
above it registers each of its tables that hold personal data from its ``AppConfig.ready()``:
the table's name (the receipt's key), a translated label, a function that returns the tenant's
rows past the sweep's cutoff and the condition under which a legal hold keeps one, and the rows
that point at it without a database cascade. The sweep deletes them with its own bounded, paced
batches (``retention.purge``); the app never deletes them itself. Tables are purged in the
order they were registered, so an app registers dependent rows before the rows they point at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Model, Q, QuerySet
from django.utils.functional import Promise

if TYPE_CHECKING:
    from retention.due import Holds
    from tenants.models import Tenant


@dataclass(frozen=True, slots=True)
class PurgeScope:
    """What a registered table's rows are judged by, for one tenant at one sweep."""

    tenant: Tenant
    now: dt.datetime
    cutoff: dt.datetime  # the start of the tenant's purge day: rows older than this are due
    holds: Holds


# (rows past the cutoff, the condition under which a hold keeps one, or None when no hold does)
DueRows = tuple[QuerySet[Model], Q | None]


@dataclass(frozen=True, slots=True)
class PurgedTable:
    table: str
    label: Promise
    due: Callable[[PurgeScope], DueRows]
    dependents: tuple[tuple[type[Model], str], ...] = ()


_TABLES: dict[str, PurgedTable] = {}


def purged_table_register(entry: PurgedTable) -> None:
    """Add (or replace, by table name) a table the sweep purges for every tenant."""
    _TABLES[entry.table] = entry


def purged_tables() -> tuple[PurgedTable, ...]:
    return tuple(_TABLES.values())


def purged_table(table: str) -> PurgedTable | None:
    return _TABLES.get(table)


def dependents_of(model: type[Model]) -> tuple[tuple[type[Model], str], ...]:
    for entry in _TABLES.values():
        if entry.table == model._meta.db_table:
            return entry.dependents
    return ()
