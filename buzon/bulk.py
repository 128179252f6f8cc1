"""Inserting many new rows of one model at once: the writer of evidence entries, and of the
notifications and attachments of a bulk deposit.

`QuerySet.bulk_create()` sends each value through the generic SQL compiler (expression checks,
placeholder lookups, one call chain per value). For the rows of a deposit campaign that was a
third of the time deposit_many() took on SQLite (docs/architecture.md, flow 5).
`insert_new()` does the part of that work these rows need, and nothing else: each value goes
through its field's `pre_save()` (only for fields that have one of their own, such as a
FileField committing its file) and `get_db_prep_save()`, exactly as bulk_create does; the rows
of each batch go in one multi-row INSERT that returns the new primary keys.

It takes plain new objects of one concrete model with an auto-increment primary key, no
column the database computes, and no query expressions as values. Anything else goes to
bulk_create(), and so does everything on PostgreSQL: there bulk_create() sends a batch as one
INSERT ... SELECT FROM UNNEST(...), which measured as fast as this or faster (multi-row VALUES
with thousands of parameters was slower).

On PostgreSQL, those arrays are written by psycopg's text dumper for lists, which escapes the
quotes of each element with a regular expression and a replacement template; Python 3.11 expands
that template in Python, once per quote. Canonical JSON has dozens of quotes per evidence entry,
so escaping took about 75 microseconds per entry. `FastListDumper` gives the same bytes with
`bytes.replace` (under 3 microseconds); `register_adapters()` installs it on each new connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any, TypeVar

from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from psycopg.abc import Buffer
from psycopg.types.array import ListDumper

M = TypeVar("M", bound=models.Model)


def _has_own_pre_save(field: Field[Any, Any]) -> bool:
    return type(field).pre_save is not Field.pre_save


def _plain(fields: list[Field[Any, Any]]) -> bool:
    """Whether every column is one this module writes as bulk_create would: no column the
    database computes (generated, or with a database default)."""
    return not any(f.generated or f.has_db_default() for f in fields)


def insert_new(objs: Sequence[M]) -> Sequence[M]:
    """Insert `objs` (new, all of one model) and set their primary keys; returns `objs`."""
    if not objs:
        return objs
    model = type(objs[0])
    meta = model._meta
    alias = router.db_for_write(model)
    connection = connections[alias]
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk and f.column]
    if (
        pk is None
        or not pk.db_returning
        or meta.parents
        or connection.vendor != "sqlite"
        or not connection.features.can_return_rows_from_bulk_insert
        or not _plain(fields)
        or any(type(obj) is not model or obj.pk is not None for obj in objs)
    ):
        return _bulk_create(model, alias, objs)
    hooks = {f.attname for f in fields if _has_own_pre_save(f)}
    prepared = []
    for obj in objs:
        # As bulk_create: take the id of a related object saved after it was assigned, and
        # refuse one that still is not saved.
        obj._prepare_related_fields_for_save(operation_name="insert_new")  # type: ignore[attr-defined]
        values = [
            f.pre_save(obj, True) if f.attname in hooks else getattr(obj, f.attname) for f in fields
        ]
        if any(hasattr(value, "resolve_expression") for value in values):
            return _bulk_create(model, alias, objs)  # an expression: the compiler's work
        prepared.append(
            [f.get_db_prep_save(value, connection) for f, value in zip(fields, values, strict=True)]
        )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    row = f"({', '.join(['%s'] * len(fields))})"
    size = max(connection.ops.bulk_batch_size(fields, objs), 1)
    keys: list[Any] = []
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        for first in range(0, len(prepared), size):
            batch = prepared[first : first + size]
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 (quoted names)
                f"VALUES {', '.join([row] * len(batch))} RETURNING {quote(pk.column or pk.attname)}"
            )
            cursor.execute(sql, [value for values in batch for value in values])
            returned = [key for (key,) in cursor.fetchall()]
            # The keys are matched to the objects by position, as bulk_create does on SQLite.
            # SQLite does not promise that order, so check it: one statement's new rowids
            # grow in the order of its rows.
            if len(returned) != len(batch) or any(a >= b for a, b in pairwise(returned)):
                raise RuntimeError(f"{meta.label}: RETURNING gave the new keys out of order")
            keys.extend(returned)
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = alias
    return objs


def _bulk_create(model: type[models.Model], alias: str, objs: Sequence[M]) -> Sequence[M]:
    model._default_manager.using(alias).bulk_create(objs)
    return objs


class FastListDumper(ListDumper):
    """psycopg's text dumper for lists, escaping each element with bytes.replace rather than
    re.sub with a template; the output is the same (buzon/tests/test_bulk.py)."""

    def _dump_list(
        self,
        obj: list[Any],
        tokens: list[Buffer],
        needs_quotes: Callable[[Buffer], object],
    ) -> None:
        if not obj:
            tokens.append(b"{}")
            return
        dump = self.sub_dumper.dump if self.sub_dumper else self._dump_item
        delimiter = self.delimiter
        tokens.append(b"{")
        for item in obj:
            if item is None:
                tokens.append(b"NULL")
            elif isinstance(item, list):
                self._dump_list(item, tokens, needs_quotes)
            elif (dumped := dump(item)) is None:
                tokens.append(b"NULL")
            else:
                if needs_quotes(dumped):
                    escaped = bytes(dumped).replace(b"\\", b"\\\\").replace(b'"', b'\\"')
                    dumped = b'"' + escaped + b'"'
                tokens.append(dumped)
            tokens.append(delimiter)
        tokens[-1] = b"}"


def register_adapters(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: FastListDumper on each new PostgreSQL connection."""
    if connection.vendor == "postgresql":
        connection.connection.adapters.register_dumper(list, FastListDumper)
