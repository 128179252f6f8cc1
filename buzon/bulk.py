"""Inserting many new rows of one model at once: the bulk deposit path's writer.

`QuerySet.bulk_create()` sends each value through the generic SQL compiler (expression checks,
placeholder lookups, one call chain per value). For the rows of a deposit campaign that was a
third of the time deposit_many() took on SQLite (docs/architecture.md, flow 5).
`insert_new()` does the part of that work these rows need, and nothing else: each value goes
through its field's `pre_save()` (only for fields that have one of their own, such as a
FileField committing its file) and `get_db_prep_save()`, exactly as bulk_create does; the rows
of each batch go in one multi-row INSERT that returns the new primary keys.

It takes plain new objects of one concrete model with an auto-increment primary key and no
query expressions as values. Anything else goes to bulk_create(), and so does everything on
PostgreSQL: there bulk_create() sends a batch as one INSERT ... SELECT FROM UNNEST(...), which
measured as fast as this or faster (multi-row VALUES with thousands of parameters was slower).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.models import Field
from django.db.models.fields.related import ForeignKey

M = TypeVar("M", bound=models.Model)


def _has_own_pre_save(field: Field[Any, Any]) -> bool:
    return type(field).pre_save is not Field.pre_save


def insert_new(objs: Sequence[M]) -> Sequence[M]:
    """Insert `objs` (new, all of one model) and set their primary keys; returns `objs`."""
    if not objs:
        return objs
    model = type(objs[0])
    meta = model._meta
    alias = router.db_for_write(model)
    connection = connections[alias]
    pk = meta.pk
    if (
        pk is None
        or not pk.db_returning
        or meta.parents
        or connection.vendor != "sqlite"
        or not connection.features.can_return_rows_from_bulk_insert
        or any(type(obj) is not model or obj.pk is not None for obj in objs)
    ):
        model._default_manager.using(alias).bulk_create(objs)
        return objs
    fields = [f for f in meta.concrete_fields if f is not pk and f.column]
    hooks = {f.attname for f in fields if _has_own_pre_save(f)}
    relations = [f for f in fields if isinstance(f, ForeignKey)]
    prepared = []
    for obj in objs:
        for relation in relations:
            # What Model._prepare_related_fields_for_save() does: take the id of a related
            # object assigned before it was saved, and refuse one that still is not.
            if getattr(obj, relation.attname) is None and relation.is_cached(obj):
                related = relation.get_cached_value(obj)
                if related is not None:
                    if related.pk is None:
                        raise ValueError(  # bulk_create()'s words for it
                            "insert_new() prohibited to prevent data loss due to unsaved "
                            f"related object '{relation.name}'."
                        )
                    setattr(obj, relation.attname, related.pk)
        prepared.append(
            [
                f.get_db_prep_save(
                    f.pre_save(obj, True) if f.attname in hooks else getattr(obj, f.attname),
                    connection,
                )
                for f in fields
            ]
        )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields if f.column)
    row = f"({', '.join(['%s'] * len(fields))})"
    size = max(connection.ops.bulk_batch_size(fields, objs), 1)
    keys: list[Any] = []
    with connection.cursor() as cursor:
        for first in range(0, len(prepared), size):
            batch = prepared[first : first + size]
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 (quoted names)
                f"VALUES {', '.join([row] * len(batch))} RETURNING {quote(pk.column or pk.attname)}"
            )
            cursor.execute(sql, [value for values in batch for value in values])
            keys.extend(key for (key,) in cursor.fetchall())
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = alias
    return objs
