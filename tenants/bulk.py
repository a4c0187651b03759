"""Many rows of one tenant in one INSERT, without a model object each (the alert detector's
batch writes: evidence, timeline, the alert upsert, webhook deliveries).

A detector batch writes thousands of evidence, timeline and webhook rows. Through ``bulk_create`` each
one is a model instance whose every field is prepared, and every value is then quoted into the
statement by the driver (the connection binds client-side): that per-value work was most of a
batch's write time. Here the rows are plain tuples, sent as ONE parameter, a JSON array of
arrays that PostgreSQL expands itself (``json_array_elements``, each column cast to its
field's type): the statement's text is the same whatever the number of rows (the driver's
parse cache keeps it), and the values cross as one string. Elsewhere (SQLite, the embedded
default) the same rows go through ``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router

from tenants.models import Tenant, TenantOwned


def _quote(name: str | None) -> str:
    if name is None:  # a concrete field always has a column; the stubs allow None
        raise TypeError("a field without a column")
    return '"' + name.replace('"', '""') + '"'


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


@functools.cache
def insert_select_sql(model: type[models.Model], names: tuple[str, ...]) -> str:
    """``INSERT INTO <table> (<columns of names>) SELECT … FROM json_array_elements(%s::json)``:
    one parameter, the rows as a JSON array of arrays (``rows_json``); callers may append an
    ``ON CONFLICT`` / ``RETURNING`` clause."""
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    connection = connections[router.db_for_write(model)]
    columns, values = [], []
    for i, field in enumerate(fields):
        columns.append(_quote(field.column))  # type: ignore[union-attr]
        if field.get_internal_type() == "JSONField":
            values.append(f"(r->{i})::jsonb")
        else:
            # varchar(64) -> varchar: the model's own checks bound the values already.
            db_type = (field.db_type(connection) or "text").split("(")[0]
            values.append(f"(r->>{i})::{db_type}")
    # Identifiers and types from the model's meta: the rows are the one parameter.
    return (
        f"INSERT INTO {_quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608  # nosec B608
        f"SELECT {', '.join(values)} FROM json_array_elements(%s::json) AS r"
    )


def rows_json(rows: Sequence[Sequence[Any]]) -> str:
    """Rows as the JSON array of arrays ``insert_select_sql`` reads (datetimes in ISO 8601)."""
    return json.dumps(rows, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def rows_insert(
    model: type[TenantOwned],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    tenant: Tenant,
    ignore_conflicts: bool = False,
) -> None:
    """Insert ``rows`` of ``tenant`` (tuples of values in the order of the fields ``names``,
    attnames such as ``alert_id``, ``tenant_id`` first) into ``model``'s table in one statement;
    ``ignore_conflicts``: ``ON CONFLICT DO NOTHING``. Values are what the field stores: aware
    datetimes, strings, numbers, None, and JSON-ready dicts for JSON fields."""
    if not rows:
        return
    if names[0] != "tenant_id" or any(row[0] != tenant.pk for row in rows):
        raise ValueError("every row belongs to the tenant given, named first")
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.for_tenant(tenant).bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows],
            ignore_conflicts=ignore_conflicts,
        )
        return
    sql = insert_select_sql(model, tuple(names))
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, [rows_json(rows)])
