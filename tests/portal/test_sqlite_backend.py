"""The SQLite backend (portal/sqlite) waits for the write lock itself, SQLite's own busy
handler being off: a writer that finds the lock taken still waits and writes, gives up with
SQLite's "database is locked" after OPTIONS["timeout"], and an executemany outside a
transaction is written whole or not at all.

Each test opens its own connections (real ones, on a file of its own) to one database, whichever
database the suite runs on."""

import datetime
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import IntegrityError, OperationalError
from django.db.backends.sqlite3.base import DatabaseOperations as DjangoOperations

from portal.sqlite.base import DatabaseWrapper
from tests.factories import sqlite_connection


def connect(path: Path, timeout: float = 20) -> DatabaseWrapper:
    """A connection to `path` set up as portal.settings sets up SQLite's."""
    return sqlite_connection(
        str(path),
        transaction_mode="IMMEDIATE",
        timeout=timeout,
        init_command="PRAGMA journal_mode=WAL;",
    )


@pytest.fixture
def database(tmp_path: Path, django_db_blocker) -> Iterator[Path]:
    path = tmp_path / "lock.sqlite3"
    with django_db_blocker.unblock():
        setup = connect(path)
        with setup.cursor() as cursor:
            cursor.execute("CREATE TABLE t (k integer PRIMARY KEY)")
        setup.close()
        yield path


@pytest.fixture
def holder(database: Path) -> Iterator[DatabaseWrapper]:
    """A connection holding the write lock (a transaction that has written) until the test
    commits it."""
    connection = connect(database)
    with connection.cursor() as cursor:
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("INSERT INTO t (k) VALUES (1)")
    yield connection
    if connection.connection.in_transaction:
        connection.connection.rollback()
    connection.close()


def in_thread(work: Callable[[dict], None]) -> tuple[threading.Thread, dict]:
    """Run `work(outcome)` in a thread of its own, as another web process's request would."""
    outcome: dict = {}

    def run() -> None:
        try:
            work(outcome)
        except Exception as error:  # any error: the test reads it
            outcome["error"] = error
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def waits_then_writes(database: Path, holder: DatabaseWrapper, write: Callable) -> None:
    """`write(cursor)` on a connection of its own, while `holder` holds the lock: it is still
    waiting a while later (not refused at once), and once the holder commits it ends without
    an error."""

    def work(outcome: dict) -> None:
        connection = connect(database)
        with connection.cursor() as cursor:
            write(cursor)
        if connection.connection.in_transaction:
            connection.connection.commit()
        connection.close()

    thread, outcome = in_thread(work)
    time.sleep(0.3)
    assert thread.is_alive(), outcome
    holder.connection.commit()
    thread.join(10)
    assert "error" not in outcome


def rows(database: Path) -> list[int]:
    reader = connect(database)
    with reader.cursor() as cursor:
        cursor.execute("SELECT k FROM t ORDER BY k")
        found = [row[0] for row in cursor.fetchall()]
    reader.close()
    return found


def test_sqlites_own_busy_handler_is_off(database: Path):
    connection = connect(database)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 0
    connection.close()


def test_a_writer_that_finds_the_lock_taken_waits_and_writes(database, holder):
    # In autocommit, as the autosave's statement.
    waits_then_writes(database, holder, lambda cursor: cursor.execute("INSERT INTO t VALUES (2)"))
    assert rows(database) == [1, 2]


def test_a_transaction_waits_to_begin(database, holder):
    def write(cursor) -> None:
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("INSERT INTO t (k) VALUES (3)")

    waits_then_writes(database, holder, write)
    assert rows(database) == [1, 3]


def test_executemany_outside_a_transaction_waits_and_is_written_whole(database, holder):
    waits_then_writes(
        database,
        holder,
        lambda cursor: cursor.executemany("INSERT INTO t VALUES (%s)", [(5,), (6,)]),
    )
    assert rows(database) == [1, 5, 6]


def test_it_gives_up_after_the_timeout_with_sqlites_error(database, holder):
    def write(outcome: dict) -> None:
        connection = connect(database, timeout=0.2)
        outcome["started"] = time.monotonic()
        try:
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO t (k) VALUES (4)")
        finally:
            connection.close()

    thread, outcome = in_thread(write)
    thread.join(10)
    assert isinstance(outcome["error"], OperationalError)
    assert "database is locked" in str(outcome["error"])
    assert 0.15 <= outcome["ended"] - outcome["started"] < 5
    holder.connection.commit()
    assert rows(database) == [1]


def test_executemany_outside_a_transaction_refused_halfway_writes_nothing(database):
    connection = connect(database)
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.executemany("INSERT INTO t (k) VALUES (%s)", [(7,), (8,), (7,)])
    assert not connection.connection.in_transaction
    with connection.cursor() as cursor:  # the connection goes on in autocommit
        cursor.execute("INSERT INTO t (k) VALUES (9)")
    connection.close()
    assert rows(database) == [9]


# hot_rows: a hot path's statement on sqlite3's own cursor (portal.db.hot_rows), with the same
# waiting and Django's errors.


def test_hot_rows_waits_for_the_lock_then_gives_the_statements_rows(database, holder):
    def work(outcome: dict) -> None:
        connection = connect(database)
        outcome["rows"] = connection.hot_rows(
            "INSERT INTO t (k) VALUES (%(k)s), (%(k)s + 1) RETURNING k", {"k": 2}
        )
        connection.close()

    thread, outcome = in_thread(work)
    time.sleep(0.3)
    assert thread.is_alive(), outcome
    holder.connection.commit()
    thread.join(10)
    assert sorted(outcome["rows"]) == [(2,), (3,)]
    assert rows(database) == [1, 2, 3]


def test_hot_rows_gives_up_after_the_timeout_with_djangos_error(database, holder):
    def work(outcome: dict) -> None:
        connection = connect(database, timeout=0.2)
        outcome["started"] = time.monotonic()
        try:
            connection.hot_rows("INSERT INTO t (k) VALUES (%(k)s)", {"k": 4})
        finally:
            connection.close()

    thread, outcome = in_thread(work)
    thread.join(10)
    # Django's OperationalError, which the API answers with its 503 (portal.errors).
    assert isinstance(outcome["error"], OperationalError)
    assert "database is locked" in str(outcome["error"])
    assert 0.15 <= outcome["ended"] - outcome["started"] < 5


def test_hot_rows_goes_on_after_the_connection_is_closed_and_opened_again(database):
    connection = connect(database)
    assert connection.hot_rows("INSERT INTO t (k) VALUES (%(k)s) RETURNING k", {"k": 5}) == [(5,)]
    connection.close()  # as Django does at the end of a request past CONN_MAX_AGE
    assert connection.hot_rows("SELECT count(*) FROM t WHERE k >= %(k)s", {"k": 5}) == [(1,)]
    connection.close()


@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(2026, 12, 1, 9, 30, 5, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC),  # no microseconds
        datetime.datetime(2026, 12, 1, 9, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Tehran")),
        datetime.datetime(2026, 12, 1, 9, 30),
        None,
    ],
)
def test_datetimes_are_stored_as_djangos_sqlite_backend_stores_them(database, value):
    connection = connect(database)
    stored = connection.ops.adapt_datetimefield_value(value)
    assert stored == DjangoOperations(connection).adapt_datetimefield_value(value)
    if value is not None and value.tzinfo is not None:
        assert stored == str(value.astimezone(datetime.UTC).replace(tzinfo=None))
