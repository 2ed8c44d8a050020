"""The portal on a PostgreSQL that misbehaves: a lock held for long, connections it ended.

A request waits for a lock at most DB_LOCK_TIMEOUT, then answers the contract's 503 (every
connection gets the timeout as it starts, a pool's included); the hot paths' own cursors
(portal.db.hot_cursor) replace a connection the server ended, as Django's own cursors do.
"""

import runpy
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.db.backends.postgresql.base import DatabaseWrapper
from django.test import Client

from portal.db import hot_cursor
from tests.factories import on_postgres

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = "/api/integration/exams/launch/"
needs_postgres = pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL")


def admin_connection() -> psycopg.Connection:
    """A connection of its own to the test database, as another client (psql) would open."""
    ours = connection.settings_dict
    return psycopg.connect(
        host=ours["HOST"],
        port=ours["PORT"],
        user=ours["USER"],
        password=ours["PASSWORD"] or None,
        dbname=ours["NAME"],
        autocommit=True,
    )


def launch(client: Client, token: str, eurl: int, student: str = "stu-1"):
    return client.post(
        LAUNCH,
        {
            "student_uuid": student,
            "mobile": "",
            "eurl": eurl,
            "callback_url": "https://lms.example.com/cb",
        },
        content_type="application/json",
        headers={"X-Client-Token": token, "Accept-Language": "en"},
    )


# --- the lock timeout


def database_options() -> dict:
    """The default database's OPTIONS as portal/settings.py builds them from the environment."""
    settings_module = runpy.run_path(str(ROOT / "portal" / "settings.py"))
    return settings_module["DATABASES"]["default"].get("OPTIONS", {})


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "-c lock_timeout=5000"),
        ({"DB_LOCK_TIMEOUT": "1.5", "DB_POOL_MAX_SIZE": "2"}, "-c lock_timeout=1500"),
        ({"DB_LOCK_TIMEOUT": "0"}, None),
    ],
)
def test_the_lock_timeout_is_a_connection_option_of_postgresql(monkeypatch, environment, expected):
    monkeypatch.setenv("DATABASE_URL", "postgres://portal@db.example.com:5432/portal")
    for name in ("DB_LOCK_TIMEOUT", "DB_POOL_MAX_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    options = database_options()
    assert options.get("options") == expected
    assert ("pool" in options) == ("DB_POOL_MAX_SIZE" in environment)


def test_options_the_database_url_gives_are_kept(monkeypatch):
    monkeypatch.setenv(
        "DATABASE_URL", "postgres://portal@db/portal?options=-c%20statement_timeout%3D9000"
    )
    monkeypatch.delenv("DB_LOCK_TIMEOUT", raising=False)
    options = database_options()
    assert options["options"] == "-c statement_timeout=9000 -c lock_timeout=5000"


def show_lock_timeout(wrapper) -> str:
    with wrapper.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        return cursor.fetchone()[0]


@needs_postgres
def test_every_connection_has_the_lock_timeout_a_pooled_one_too(db):
    expected = f"{round(settings.DB_LOCK_TIMEOUT * 1000)}ms"
    assert show_lock_timeout(connection) in {expected, f"{settings.DB_LOCK_TIMEOUT:g}s"}

    pooled = DatabaseWrapper(
        {
            **connection.settings_dict,
            "CONN_MAX_AGE": 0,
            "OPTIONS": {
                **connection.settings_dict["OPTIONS"],
                "pool": {"min_size": 1, "max_size": 1},
            },
        },
        alias="lock_timeout_pool",
    )
    try:
        assert show_lock_timeout(pooled) == show_lock_timeout(connection)
    finally:
        pooled.close()
        pooled.close_pool()


@needs_postgres
def test_a_launch_behind_a_held_table_lock_answers_503_after_the_lock_timeout(client, token, exam):
    """psql holds `LOCK TABLE exams_quiz`: the launch no longer waits for it (holding its web
    thread) but answers the exam contract's 503 once DB_LOCK_TIMEOUT has passed."""
    client.raise_request_exception = False  # answer as the served portal does
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with admin_connection() as holder, holder.transaction():
            holder.execute("LOCK TABLE exams_quiz IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(timeout=60)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        response = launch(client, token, exam.pk)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join(timeout=10)

    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"
    assert settings.DB_LOCK_TIMEOUT * 0.8 <= elapsed < settings.DB_LOCK_TIMEOUT + 3


# --- connections the server ended


def end_our_session() -> None:
    """PostgreSQL ends the test's connection (a restart, a failover), then a new request
    starts: Django's request_started resets the health check (close_old_connections)."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    with admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.1)
    close_old_connections()


@needs_postgres
def test_a_hot_cursor_replaces_a_connection_the_server_ended(transactional_db):
    end_our_session()
    with hot_cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@needs_postgres
def test_the_exam_api_answers_after_the_server_ended_the_connection(
    transactional_db, client, token, exam
):
    response = launch(client, token, exam.pk)
    assert response.status_code == 201, response.content
    launch_id = response.json()["launch_id"]

    end_our_session()
    response = client.get(
        f"/api/launch/{launch_id}/", headers={"X-Client-Token": token, "Accept-Language": "en"}
    )
    assert response.status_code == 200, response.content
