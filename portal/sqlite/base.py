"""Django's SQLite backend, waiting for the write lock in steps of tens of microseconds.

SQLite lets one connection write at a time. Another that wants to write meanwhile is refused
(SQLITE_BUSY) and SQLite's busy handler sleeps and tries again — 1, 2, 5, 10 … milliseconds,
steps compiled into SQLite. An autosave holds the lock for about a tenth of a millisecond, so a
writer that found it taken slept ten times longer than it needed, idle: under exam-day load
(two web processes saving answers) one save in ten did (docs/performance.md, "Sixth round").

This backend turns SQLite's handler off once the connection is set up and waits in Python
instead, from 50 µs doubling to 2 ms, for as long as SQLite would have (OPTIONS["timeout"],
sqlite3's 5 s when unset), then raises SQLite's own "database is locked".

Only what is safe to run again waits: a statement outside a transaction (refused, it did
nothing) and BEGIN itself. A statement inside a transaction never waits: with
`transaction_mode` IMMEDIATE its BEGIN already took the lock. `executemany` outside a
transaction runs in one of its own, so that a refusal halfway never leaves half of it written.

`hot_rows` runs a hot path's statement on sqlite3's own cursor with the same waiting, and the
operations store an aware UTC datetime without Django's general conversion (the text is the
same).
"""

import datetime
import functools
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any, Self

from django.db.backends.sqlite3 import base as sqlite3_base
from django.db.backends.sqlite3.base import SQLiteCursorWrapper
from django.db.backends.sqlite3.operations import DatabaseOperations as SQLiteOperations

FIRST_WAIT = 0.00005  # seconds
LONGEST_WAIT = 0.002
DEFAULT_TIMEOUT = 5.0  # sqlite3.connect's


def _is_busy(error: sqlite3.OperationalError) -> bool:
    # The primary result code (the low byte) of SQLITE_BUSY and its extended codes.
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


def waiting[T](connection: sqlite3.Connection, timeout: float, run: Callable[[], T]) -> T:
    """run(), tried again in short steps while the write lock is taken, for up to `timeout`
    seconds; at once inside a transaction (see above)."""
    if connection.in_transaction:
        return run()
    deadline, delay = time.monotonic() + timeout, FIRST_WAIT
    while True:
        try:
            return run()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, LONGEST_WAIT)


class WaitingCursor(SQLiteCursorWrapper):
    """Django's SQLite cursor; refused for the write lock outside a transaction, it waits."""

    timeout = DEFAULT_TIMEOUT

    def _waiting[T](self, run: Callable[[], T]) -> T:
        return waiting(self.connection, self.timeout, run)

    def execute(self, query: str, params: Any = None) -> Self:
        self._waiting(lambda: super(WaitingCursor, self).execute(query, params))
        return self

    def executemany(self, query: str, param_list: Iterable[Any]) -> Self:
        if self.connection.in_transaction:
            super().executemany(query, param_list)
            return self
        self._waiting(lambda: sqlite3.Cursor.execute(self, "BEGIN IMMEDIATE"))
        try:
            super().executemany(query, param_list)
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()
        return self


class DatabaseOperations(SQLiteOperations):
    def adapt_datetimefield_value(self, value: Any) -> Any:
        # The usual value, an aware UTC datetime (timezone.now()) for a database kept in UTC,
        # made naive directly: the same text as Django's checks and conversion give, which
        # cost a hot path's save as much as its parsing of the request body.
        utc = datetime.UTC
        if type(value) is datetime.datetime and value.tzinfo is utc is self.connection.timezone:
            return str(value.replace(tzinfo=None))
        return super().adapt_datetimefield_value(value)


class DatabaseWrapper(sqlite3_base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        # SQLite's handler still waits while the connection is set up (init_command's PRAGMAs).
        connection = super().get_new_connection(conn_params)
        connection.execute("PRAGMA busy_timeout = 0")
        self._lock_timeout = conn_params.get("timeout", DEFAULT_TIMEOUT)
        return connection

    def create_cursor(self, name: str | None = None) -> WaitingCursor:
        cursor = self.connection.cursor(factory=WaitingCursor)
        cursor.timeout = self._lock_timeout
        return cursor

    def hot_rows(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of one statement of the exam-day hot paths (Django's "%(name)s" style), run
        on sqlite3's own cursor (portal.db.hot_rows says when): waiting for the write lock as
        WaitingCursor does and failing with Django's errors, without the layers of Django's
        cursor around it, which cost as much as a short statement itself."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        self.validate_thread_sharing()
        raw = self.connection
        if self._hot_cursor is None or self._hot_cursor[0] is not raw:  # a new connection
            self._hot_cursor = (raw, raw.cursor())
        cursor, named = self._hot_cursor[1], _named(query)

        def run() -> list[tuple[Any, ...]]:
            return cursor.execute(named, params).fetchall()

        with self.wrap_database_errors:
            return waiting(raw, self._lock_timeout, run)

    # One sqlite3 cursor, reused, for the connection it was made on.
    _hot_cursor: tuple[sqlite3.Connection, sqlite3.Cursor] | None = None


@functools.lru_cache(maxsize=64)
def _named(query: str) -> str:
    """A statement in Django's "%(name)s" style as sqlite3 takes it (":name"), converted once:
    Django's cursor converts it on every execution."""
    return re.sub(r"%\((\w+)\)s", r":\1", query).replace("%%", "%")
