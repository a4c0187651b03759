"""Inserting the hot path's rows with statements compiled once.

Design: ``Model.objects.create()`` compiles an INSERT for every row. For the wide rows a sign-in
writes (its LoginEvent, its UserSession) that costs more than the database's part: two
``create()`` calls took 1.30 ms, this function 0.56 ms for the same two rows (bench/signin's
setup, 2 vCPU). ``rows_insert`` builds the
SQL of a model's INSERT once per process, then only converts the values with each field's own
``pre_save`` and ``get_db_prep_save`` (what Django's insert compiler calls), and on PostgreSQL
sends several rows, of different tables, as one statement: each but the last INSERT is a
data-modifying CTE, so a successful sign-in's two rows cost one round trip. Primary keys come
back through RETURNING and are set on the objects, as ``save()`` would.

It sends no ``pre_save``/``post_save`` signals: use it only for rows nobody listens to (the
record's and the session index's, which are not audited). Other databases (the embedded SQLite)
get plain ``save(force_insert=True)``.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model


@functools.cache
def _statement(model: type[Model]) -> tuple[str, tuple[Field[Any, Any], ...], str]:
    """PostgreSQL's INSERT … RETURNING pk of ``model``, its fields in parameter order, the pk."""
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields
                   if f is not meta.auto_field and not getattr(f, "generated", False))
    if any(hasattr(f, "get_placeholder") for f in fields):
        raise TypeError(f"{meta.label} has a field with its own SQL placeholder")

    def quote(name: str | None) -> str:
        if name is None:  # a concrete field always has a column; the stubs allow None
            raise TypeError(f"{meta.label} has a field without a column")
        return '"' + name.replace('"', '""') + '"'

    pk = quote(meta.pk.column)
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return (f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608  # identifiers from the model's meta  # nosec B608
            f"RETURNING {pk}", fields, pk)


def rows_insert(*objs: Model) -> None:
    """INSERT every object (new rows, all on one database), in one statement on PostgreSQL."""
    if not objs:
        return
    alias = router.db_for_write(type(objs[0]), instance=objs[0])
    connection = connections[alias]
    if connection.vendor != "postgresql":
        for obj in objs:
            obj.save(force_insert=True, using=alias)
        return
    statements: list[tuple[str, str]] = []  # (INSERT … RETURNING pk, the pk column)
    params: list[Any] = []
    for obj in objs:
        sql, fields, pk = _statement(type(obj))
        statements.append((sql, pk))
        params.extend(f.get_db_prep_save(f.pre_save(obj, True), connection=connection)
                      for f in fields)
    *earlier, (statement, _pk) = statements
    if earlier:
        # Identifiers from the models' meta; every value is a parameter.
        ctes = ", ".join(f"_row{i} AS ({sql})" for i, (sql, _) in enumerate(earlier))
        pks = ", ".join(f"(SELECT {pk} FROM _row{i})" for i, (_, pk) in enumerate(earlier))  # noqa: S608  # nosec B608
        statement = f"WITH {ctes} {statement}, {pks}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        last_pk, *earlier_pks = cursor.fetchone()
    for obj, pk in zip(objs, (*earlier_pks, last_pk), strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
