"""Hand-written statements for the token endpoint's hot path (issue 5: 240 refreshes/s).

Through the ORM a statement costs 0.3–0.5 ms of Python here (compiling the query,
building instances), and PostgreSQL spends 1–2 ms planning a join of seven tables, more
than the reads it replaces. The statements of ``refresh.py`` are therefore written once
per process and, on PostgreSQL, executed as prepared statements: psycopg keeps them per
connection and PostgreSQL reuses one generic plan, so a seven-table read costs ~0.1 ms on
each side. They go through Django's cursor wrapper, so ``connection.execute_wrapper``
and the DEBUG query log still see every one of them.

Values are converted exactly as the ORM converts them (each field's ``get_db_prep_save``
going in, the backend's and the field's converters coming out), so rows written here are
the rows the ORM would write and instances loaded here are the ORM's own."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import signals
from django.db.models.deletion import get_candidate_relations_to_delete

Converter = Callable[[Any, Any, Any], Any]


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _prepared_cursor_class() -> type:
    import psycopg

    class PreparedCursor(psycopg.Cursor):
        """Server-side binding, always prepared (the statements here are few and fixed,
        so psycopg's per-connection cache of prepared statements holds them all)."""

        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                    binary: bool | None = None) -> Any:
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


_PREPARED: list[type] = []


@contextmanager
def cursor() -> Iterator[CursorWrapper]:
    """A cursor for this module's statements: prepared on PostgreSQL, Django's usual
    one on SQLite (whose driver caches compiled statements itself) and when queries are
    logged (DEBUG, tests capturing them: Django's log reads the SQL back from a client-
    side cursor only)."""
    if not is_postgresql() or connection.queries_logged:
        with connection.cursor() as c:
            yield c
        return
    connection.ensure_connection()
    raw: Any = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's automatic preparation off (prepare_threshold=None), which
        # also ignores an explicit prepare=True. A threshold nothing reaches keeps
        # Django's own statements unprepared (they use client-side binding anyway) and
        # lets ours be prepared.
        raw.prepare_threshold = sys.maxsize
    if not _PREPARED:
        _PREPARED.append(_prepared_cursor_class())
    wrapped = connection.make_cursor(_PREPARED[0](raw))
    try:
        yield wrapped
    finally:
        wrapped.close()


def db_params(model: type[models.Model], values: dict[str, Any]) -> list[Any]:
    """The values of ``columns(model)`` for a new row, converted as the ORM saves them
    (the fields' defaults where ``values`` has none; auto_now fields need a value)."""
    out = []
    for f in insert_fields(model):
        value = values[f.attname] if f.attname in values else f.get_default()
        out.append(f.get_db_prep_save(value, connection))
    return out


def insert_fields(model: type[models.Model]) -> list[Any]:
    """The concrete fields written by an INSERT (all but the auto primary key)."""
    return [f for f in model._meta.concrete_fields
            if not (f.primary_key and isinstance(f, models.AutoField))]


def columns(model: type[models.Model]) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in insert_fields(model))


def casts(model: type[models.Model], placeholders: Sequence[str] | None = None) -> str:
    """``CAST(%s AS type)`` per inserted column, for ``INSERT ... SELECT`` (PostgreSQL
    cannot infer a parameter's type from a select list); ``placeholders`` may replace
    some with SQL (another CTE's id)."""
    out = []
    for i, f in enumerate(insert_fields(model)):
        p = placeholders[i] if placeholders is not None else "%s"
        out.append(p if p != "%s" else f"CAST(%s AS {f.cast_db_type(connection)})")
    return ", ".join(out)


class Loader:
    """All concrete columns of ``model`` under ``alias`` in a SELECT, and back to an
    instance as the ORM builds one (converters applied, ``from_db``)."""

    def __init__(self, model: type[models.Model], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields: list[Any] = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.cols = [f.get_col(alias) for f in self.fields]
        self.width = len(self.fields)
        self.pk_index = self.fields.index(model._meta.pk)
        self._converters: weakref.WeakKeyDictionary[
            BaseDatabaseWrapper, list[tuple[int, list[Converter]]]] = (
            weakref.WeakKeyDictionary())

    def select(self) -> str:
        q = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{q(f.column)}" for f in self.fields)

    def _converters_for(self, db: Any) -> list[tuple[int, list[Converter]]]:
        """Per field, the backend's and the field's converters (as the SQL compiler
        collects them); computed once per connection wrapper (one per thread)."""
        found = self._converters.get(db)
        if found is None:
            found = []
            for i, f in enumerate(self.fields):
                funcs = db.ops.get_db_converters(self.cols[i]) + f.get_db_converters(db)
                if funcs:
                    found.append((i, funcs))
            self._converters[db] = found
        return found

    def load(self, row: Sequence[Any], start: int) -> Any:
        """The instance in ``row[start:start + width]``, or None (an outer join's miss)."""
        values = list(row[start:start + self.width])
        if values[self.pk_index] is None:
            return None
        db = connections[DEFAULT_DB_ALIAS]
        for i, funcs in self._converters_for(db):
            for func in funcs:
                values[i] = func(values[i], self.cols[i], db)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)


# --- deleting a row as the ORM's collector would ----------------------------------------


@dataclass(frozen=True)
class Dependent:
    """Rows pointing at a deleted row: deleted with it (CASCADE) or unlinked (SET_NULL)."""

    model: type[models.Model]
    column: str
    delete: bool

    def sql(self, guard: str = "") -> str:
        """The statement for the rows pointing at ``%s`` (``guard``: more conditions)."""
        table = connection.ops.quote_name(self.model._meta.db_table)
        column = connection.ops.quote_name(self.column)
        if self.delete:
            return f"DELETE FROM {table} WHERE {column} = %s{guard}"  # noqa: S608
        return f"UPDATE {table} SET {column} = NULL WHERE {column} = %s{guard}"  # noqa: S608


_plans: dict[tuple[type[models.Model], tuple[str, ...]],
             tuple[list[Dependent], list[type[models.Model]]] | None] = {}


def dependents(model: type[models.Model], *, skip: tuple[str, ...] = ()
               ) -> list[Dependent] | None:
    """What deleting a ``model`` row does to the rows pointing at it, as Django's
    collector does it, for relations to leaves (CASCADE to a model nothing points at, or
    SET_NULL); ``skip``: "app_label.model.field" relations the caller handles itself.
    None when plain statements would not be the same (delete signals listened to, deeper
    cascades, parents, generic relations, another on_delete rule): the ORM must delete."""
    key = (model, skip)
    if key not in _plans:
        _plans[key] = _relations(model, skip)
    found = _plans[key]
    if found is None:
        return None
    plan, deleted = found
    # Receivers may connect at any time: asked at every delete, as the collector does.
    if any(s.has_listeners(m) for m in deleted for s in (signals.pre_delete,
                                                         signals.post_delete)):
        return None
    return plan


def _relations(model: type[models.Model], skip: tuple[str, ...]
               ) -> tuple[list[Dependent], list[type[models.Model]]] | None:
    if model._meta.private_fields or model._meta.parents:
        return None
    plan: list[Dependent] = []
    deleted: list[type[models.Model]] = [model]
    # The relations the collector follows (hidden ones, related_name="+", included).
    for rel in get_candidate_relations_to_delete(model._meta):
        relation: Any = rel
        field: Any = relation.field
        related: Any = relation.related_model
        if f"{related._meta.label_lower}.{field.name}" in skip \
                or relation.on_delete is models.DO_NOTHING:
            continue
        if relation.on_delete is models.SET_NULL:
            plan.append(Dependent(related, field.column, delete=False))
        elif relation.on_delete is models.CASCADE and not any(
                True for _ in get_candidate_relations_to_delete(related._meta)) \
                and not related._meta.private_fields and not related._meta.parents:
            plan.append(Dependent(related, field.column, delete=True))
            deleted.append(related)
        else:
            return None
    return plan, deleted


def delete(model: type[models.Model], pk: Any, **also: Any) -> int:
    """Delete the ``model`` row ``pk`` (if its other columns match ``also``) and what
    depends on it, as ``Model.objects.filter(...).delete()`` would; 1 if it was there."""
    plan = dependents(model)
    if plan is None:
        _total, per_model = model._default_manager.filter(pk=pk, **also).delete()
        return int(per_model.get(model._meta.label, 0))
    q = connection.ops.quote_name
    meta: Any = model._meta
    where = " AND ".join([f"{q(meta.pk.column)} = %s"]
                         + [f"{q(meta.get_field(k).column)} = %s" for k in also])
    # The row first, its dependents only if it was there: foreign keys are checked at
    # commit (Django makes them deferrable), hence a transaction if there is none.
    with nullcontext() if connection.in_atomic_block else transaction.atomic(), \
            cursor() as c:
        c.execute(f"DELETE FROM {q(model._meta.db_table)} WHERE {where}",  # noqa: S608
                  [pk, *also.values()])
        count = int(c.rowcount)
        if count:
            for dep in plan:
                c.execute(dep.sql(), [pk])
    return count
