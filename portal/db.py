"""Hand-written SQL on the hot paths, prepared once per connection on PostgreSQL.

PostgreSQL plans a statement each time it is sent unless it is prepared. For the few
statements the exam-day hot paths send with every request (the autosave's one statement, a
delivery attempt's), planning cost more than running them (2.5 ms of planning for a 1.3 ms
autosave, measured): `hot_cursor()` gives a cursor that sends its statements with server-side
binding and prepares each on its connection the first time (psycopg keeps the prepared
statements per connection). Django's own cursors keep client-side binding and no preparing, as
Django chooses by default. SQLite compiles statements cheaply and caches them itself: its
cursor is Django's plain one.

If a transaction-pooling PgBouncer sits between the portal and PostgreSQL, it must be 1.21 or
newer with `max_prepared_statements` set (docs/operations.md).
"""

import functools
from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.db import connection
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
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's preparing off for the connection, which also ignores an
        # explicit prepare=True. Its own cursors bind on the client and never prepare anyway.
        raw.prepare_threshold = 0
    # Django's own wrapping of a new cursor (missing from django-stubs).
    return connection._prepare_cursor(_preparing_cursor_class()(raw))  # type: ignore[attr-defined]


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
        self.pk_index = self.names.index(model._meta.pk.attname)
        self.converters = []
        for index, field in enumerate(fields):
            column = field.get_col(alias or model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                self.converters.append((index, column, found))

    def build(self, connection: BaseDatabaseWrapper, values: Sequence[Any]) -> M:
        values = list(values)
        for index, column, converters in self.converters:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        return self.model.from_db(connection.alias, self.names, values)
