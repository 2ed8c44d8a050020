"""Each save's history row (AnswerSave), written by the database itself on SQLite.

The autosave is then one statement and one commit on SQLite's single write lock, where the
save and its history row were two (services.save_answer_fast).
Every path that saves an answer sets `answered_at` to the moment of the save, and only a save
does: that is the trigger's condition. PostgreSQL writes the row in the saving statement itself
(a data-modifying CTE), so it has no trigger.

SQLite drops a table's triggers when Django rebuilds the table (most column changes do), so
the trigger is created by its migration and made sure of after every `migrate` (apps.py).
"""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

TRIGGER = """
CREATE TRIGGER IF NOT EXISTS exams_answer_saved
AFTER UPDATE OF answered_at ON exams_quizquestion
FOR EACH ROW WHEN NEW.answered_at IS NOT NULL AND NEW.answered_at IS NOT OLD.answered_at
BEGIN
    INSERT INTO exams_answersave (item_id, answer, done, saved_at)
    VALUES (NEW.id, NEW.answer, NEW.done, NEW.answered_at);
END
"""


def by_trigger(connection: BaseDatabaseWrapper) -> bool:
    """Whether this database writes each save's history row itself (the saving code must not
    write it too)."""
    return connection.vendor == "sqlite"


def ensure_trigger(connection: BaseDatabaseWrapper) -> None:
    """Create the history trigger where by_trigger says so, if it is missing."""
    if not by_trigger(connection):
        return
    tables = connection.introspection.table_names()
    if "exams_quizquestion" in tables and "exams_answersave" in tables:
        with connection.cursor() as cursor:
            cursor.execute(TRIGGER)


def drop_trigger(connection: BaseDatabaseWrapper) -> None:
    if by_trigger(connection):
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS exams_answer_saved")


# RunPython's forms, for the migrations that make the trigger or rebuild a table under it.
def ensure_in_migration(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ensure_trigger(schema_editor.connection)


def drop_in_migration(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    drop_trigger(schema_editor.connection)
