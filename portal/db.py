"""Hand-written SQL on the hot paths, prepared once per connection on PostgreSQL.

PostgreSQL plans a statement each time it is sent unless it is prepared. For the few
statements the exam-day hot paths send with every request (the autosave's one statement, a
delivery attempt's), planning cost more than running them (2.5 ms of planning for a 1.3 ms
autosave, measured): `hot_cursor()` gives a cursor that sends its statements with server-side
binding and prepares each on its connection the first time (psycopg keeps the prepared
statements per connection). Django's own cursors keep client-side binding and no preparing, as
Django chooses by default. SQLite compiles statements cheaply and caches them itself; there
the hottest statement (the autosave's) is sent by `hot_rows()` on sqlite3's own cursor, without
the layers of Django's cursor (query wrappers, parameter conversion, error wrapping per call),
which cost a quarter of what the save's Python costs (docs/performance.md, thirteenth round).

If a transaction-pooling PgBouncer sits between the portal and PostgreSQL, it must be 1.21 or
newer with `max_prepared_statements` set (docs/operations.md).
"""

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import BigAutoField, Field, Model


class RowidAutoField(BigAutoField):
    """The id of a table nobody outside sees, kept by SQLite as the table's plain rowid.

    Django declares SQLite's auto ids AUTOINCREMENT, which keeps the highest id ever given in
    sqlite_sequence and writes that table on every insert: a page more to write, ~6 µs of the
    autosave's ~45 µs statement (its history row, portal.exams.history). Without it SQLite gives
    max(id) + 1, so the id of the newest row, once deleted, may be given again: harmless where
    no id leaves the database. PostgreSQL's identity column is unchanged."""

    def db_type_suffix(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "sqlite":
            return None
        return super().db_type_suffix(connection)


def column_length(model: type[Model], name: str) -> int:
    """The length of `model`'s column `name`: what an API field, a form field or a file format
    that fills it accepts at most, so that none of them and the table ever disagree."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{name} is not a column with a length")
    return field.max_length


@functools.cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            # The stubs leave out ServerBindingCursor's psycopg Cursor base, which has execute().
            return super().execute(query, params, prepare=True, **kwargs)  # type: ignore[misc]

    return PreparingCursor


def hot_cursor() -> CursorWrapper:
    """Django's cursor wrapper (query logging, execute wrappers and counting still apply) around
    a cursor that prepares what it executes on PostgreSQL; use it for the hot paths' own SQL."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    # As Django's own cursor() does (BaseDatabaseWrapper._cursor): the first cursor of a
    # request checks a reused connection (CONN_HEALTH_CHECKS) and reconnects if it is gone,
    # e.g. after a PostgreSQL restart or failover, instead of failing on the dead one.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's preparing off for the connection, which also ignores an
        # explicit prepare=True. Its own cursors bind on the client and never prepare anyway.
        raw.prepare_threshold = 0
    # Django's own wrapping of a new cursor (missing from django-stubs).
    return connection._prepare_cursor(_preparing_cursor_class()(raw))  # type: ignore[attr-defined]


def pg_array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of these values (None as NULL), for a parameter cast to an
    array type in the statement (`%s::bigint[]`): psycopg sends it as one text value, where it
    dumps a list element by element in Python (its list dumper, even in the binary build) — at
    a submit's 200 answers, ~1.5 ms of the request against ~0.2 for this. Every element but an int
    is quoted, so any text (commas, quotes, braces, "NULL") is kept as it is."""
    texts: dict[Any, str] = {}  # the same value (a moment, a "completed") quoted once

    def element(value: Any) -> str:
        if value is None:
            return "NULL"
        if type(value) is int:
            return str(value)
        text = texts.get(value)
        if text is None:
            text = str(value).replace("\\", "\\\\").replace('"', '\\"')
            text = texts[value] = f'"{text}"'
        return text

    return "{" + ",".join(map(element, values)) + "}"


def hot_rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of one hot-path statement (named parameters, Django's "%(name)s" style; none
    for a statement that returns none): on PostgreSQL through hot_cursor(); on SQLite through
    sqlite3's own cursor (portal.sqlite's hot_rows), unless Django is logging queries (tests
    counting them, DEBUG) or wrapping their execution (connection.execute_wrapper): then
    through Django's cursor, so that every statement is still seen."""
    db = connections[DEFAULT_DB_ALIAS]
    direct = getattr(db, "hot_rows", None)
    if direct is not None and not (db.queries_logged or db.execute_wrappers):
        return cast("list[tuple[Any, ...]]", direct(sql, params))
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.description is None:  # no rows to fetch (psycopg would raise)
            return []
        return cast("list[tuple[Any, ...]]", cursor.fetchall())


class Columns[M: Model]:
    """One model's columns in a hand-written SELECT (or RETURNING), and its rows back into
    instances as the ORM makes them (the backend's and the fields' converters, then
    Model.from_db). `alias` qualifies the columns; None leaves them bare (RETURNING). With
    `only` (attribute names), the other fields are deferred, as QuerySet.only() defers them:
    read from the database if ever used."""

    def __init__(
        self,
        model: type[M],
        alias: str | None,
        connection: BaseDatabaseWrapper,
        only: Iterable[str] | None = None,
    ) -> None:
        fields: Sequence[Field[Any, Any]] = model._meta.concrete_fields
        if only is not None:
            wanted = {model._meta.pk.attname, *only}
            fields = [field for field in fields if field.attname in wanted]
        name = connection.ops.quote_name
        prefix = f"{alias}." if alias else ""
        self.model, self.count = model, len(fields)
        # A concrete field always has a column (the stubs allow None for every field).
        self.sql = ", ".join(f"{prefix}{name(cast(str, field.column))}" for field in fields)
        self.names = [field.attname for field in fields]
        self.column_names = [cast(str, field.column) for field in fields]
        self.pk_index = self.names.index(model._meta.pk.attname)
        self.converters = _converters(model, fields, connection)

    def build(self, connection: BaseDatabaseWrapper, values: Sequence[Any]) -> M:
        values = _convert(self.converters, values, connection)
        return self.model.from_db(connection.alias, self.names, values)


type _Converters = list[tuple[int, Any, list[Any]]]


def _converters(
    model: type[Model], fields: Iterable["Field[Any, Any]"], connection: BaseDatabaseWrapper
) -> _Converters:
    """What turns each of `fields`' values, as the database gives them, into the ORM's: the
    backend's converters and the field's own (by position; fields that need none left out)."""
    found = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        each = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if each:
            found.append((index, column, each))
    return found


def _convert(
    converters: _Converters, values: Iterable[Any], connection: BaseDatabaseWrapper
) -> list[Any]:
    values = list(values)
    for index, column, each in converters:
        for converter in each:
            values[index] = converter(values[index], column, connection)
    return values


_FIELD_CONVERTERS: dict[tuple[type[Model], tuple[str, ...], str], _Converters] = {}


def from_db_rows(
    model: type[Model], names: Sequence[str], rows: Iterable[Iterable[Any]]
) -> list[list[Any]]:
    """Rows read by hand (the fields `names` of `model`, in order) with their values as the ORM
    gives them: on SQLite datetimes from text, booleans from 0/1, decimals from numbers."""
    key = (model, tuple(names), connection.alias)
    converters = _FIELD_CONVERTERS.get(key)
    if converters is None:
        fields = [model._meta.get_field(name) for name in names]
        converters = _FIELD_CONVERTERS[key] = _converters(model, fields, connection)  # type: ignore[arg-type]
    return [_convert(converters, row, connection) for row in rows]


def from_db_values(model: type[Model], names: Sequence[str], row: Iterable[Any]) -> list[Any]:
    """One row read by hand, as from_db_rows converts rows."""
    return from_db_rows(model, names, [row])[0]


@contextmanager
def unique_or_invalid(
    model: type[Model], field: str, value: Any, *, pk: Any = None
) -> Iterator[None]:
    """Writes of a `model` row whose unique `field` is `value` (the row `pk`, when it exists):
    when another row took the value since the form checked it (a double click on "Create", two
    staff members at once), the database's unique constraint stops the write and this says so
    as the form would (a ValidationError with the model's own message), not a server error."""
    try:
        yield
    except IntegrityError:
        others = model._default_manager.filter(**{field: value})
        if pk is not None:
            others = others.exclude(pk=pk)
        if not others.exists():
            raise  # another constraint: a bug, not a race
        message = model(**{field: value}).unique_error_message(model, (field,))
        raise ValidationError({field: message}) from None
