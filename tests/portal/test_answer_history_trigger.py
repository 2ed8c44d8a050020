"""On SQLite each save's history row is the database's trigger (portal.exams.history): it is
there after migrate, and back after a migration rebuilt the items' table without it."""

import pytest
from django.core.management import call_command
from django.db import connection

from portal.exams import history

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="PostgreSQL writes the row in the saving statement"
    ),
]


def trigger_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'exams_answer_saved'"
        )
        return cursor.fetchone() is not None


def test_the_trigger_is_there_after_migrate():
    assert trigger_exists()


def test_migrate_puts_it_back_when_a_rebuild_dropped_it():
    history.drop_trigger(connection)  # as SQLite's table rebuild does
    assert not trigger_exists()
    call_command("migrate", verbosity=0)
    assert trigger_exists()
