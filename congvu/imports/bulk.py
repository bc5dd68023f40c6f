"""A lean ``INSERT`` for many rows: what ``QuerySet.bulk_create`` does, without its
per-value compiler machinery, which costs more than the database itself when 50,000
persons are written (six rows each, thirty columns for an account).

Rows are model instances, or plain dicts of attribute names (``account_id``) for the
simple tables, which skips building a model instance per row; a missing attribute gets
the field's default, ``auto_now``/``auto_now_add`` the current time, as Django would.
Values go through each field's own ``get_db_prep_save`` (JSON, UUIDs, time zones exactly
as Django writes them), except text, whole numbers and booleans, which the database
drivers take as they are; a date or time shared by every row is prepared once. No
signals are sent, as with ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

_SHARED_TYPES = (models.DateTimeField, models.DateField)
_PLAIN_TYPES = (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
                models.ForeignKey)
_PLAIN_VALUES = (str, int, bool)

Row = models.Model | Mapping[str, Any]
#: Rows per multi-row statement (SQLite, with RETURNING).
MAX_ROWS = 1000


def insert(model: type[models.Model], rows: Sequence[Row], *, returning: bool = False) -> None:
    """Insert ``rows`` (new: no primary key). With ``returning`` (model instances only)
    their primary keys are set, in order, as ``bulk_create`` does."""
    if not rows:
        return
    connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the proxy
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if f is not pk]
    value_of = [_getter(f, rows[0]) for f in fields]
    plain = [isinstance(f, _PLAIN_TYPES) and not isinstance(f, models.UUIDField)
             for f in fields]
    shared = [isinstance(f, _SHARED_TYPES) for f in fields]
    cache: dict[tuple[int, Any], Any] = {}

    def prepare(row: Row) -> list[Any]:
        out = []
        for i, f in enumerate(fields):
            value = value_of[i](row)
            if value is None or (plain[i] and type(value) in _PLAIN_VALUES):
                out.append(value)
            elif shared[i]:
                key = (i, value)
                if key not in cache:
                    cache[key] = f.get_db_prep_save(value, connection)
                out.append(cache[key])
            else:
                out.append(f.get_db_prep_save(value, connection))
        return out

    quote = connection.ops.quote_name
    table, columns = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Identifiers from the model, quoted; every value is a parameter.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, meta, fields, rows, prepare, returning)
            return
        if not returning:
            # In-process: one prepared statement run per row is the fastest way in.
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {one}",  # noqa: S608
                               [prepare(r) for r in rows])
            return
        size = max(1, min(connection.ops.bulk_batch_size(fields, list(rows)), MAX_ROWS))
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            params = [v for r in chunk for v in prepare(r)]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                           f"{', '.join([one] * len(chunk))} RETURNING {quote(pk.column)}",
                           params)
            _set_keys(chunk, [key for (key,) in cursor.fetchall()])


def _set_keys(rows: Sequence[Row], keys: Sequence[Any]) -> None:
    for obj, key in zip(rows, keys, strict=True):
        assert isinstance(obj, models.Model), "returning needs model instances"
        obj.pk = key
        obj._state.adding = False


def _copy(cursor: Any, meta: Any, fields: list[Any], rows: Sequence[Row],
          prepare: Callable[[Row], list[Any]], returning: bool) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN``, the server's bulk path; the primary keys, when
    wanted, are drawn from the table's sequence first (``nextval``), as an INSERT would."""
    quote = cursor.db.ops.quote_name
    table, pk = meta.db_table, meta.pk
    names = [f.column for f in fields]
    if returning:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                       "FROM generate_series(1, %s)", [table, pk.column, len(rows)])
        _set_keys(rows, [key for (key,) in cursor.fetchall()])
        names.insert(0, pk.column)
    columns = ", ".join(quote(c) for c in names)
    with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = prepare(row)
            if returning:
                assert isinstance(row, models.Model)
                values.insert(0, row.pk)
            copy.write_row(values)


def _getter(field: models.Field[Any, Any], sample: Row) -> Callable[[Any], Any]:
    """How to read ``field``'s value from a row like ``sample``."""
    if isinstance(sample, models.Model):
        return lambda obj: field.pre_save(obj, True)
    name = field.attname
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        now = timezone.now()
        return lambda row: row.get(name, now)
    if field.has_default() and callable(field.default):
        return lambda row: row[name] if name in row else field.get_default()
    default = field.get_default()
    return lambda row: row.get(name, default)
