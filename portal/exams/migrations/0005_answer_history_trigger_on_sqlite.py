"""On SQLite the database writes each save's history row (exams_answersave) itself.

The autosave is then one statement, one commit on SQLite's single write lock, where the
statement and its history row were two (portal/exams/services.py, save_answer_fast). Every
path that saves an answer sets `answered_at` to the moment of the save, and only a save does:
that is the trigger's condition. PostgreSQL writes the row in the saving statement itself (a
data-modifying CTE), so it has no trigger."""

from django.db import migrations

TRIGGER = """
CREATE TRIGGER exams_answer_saved
AFTER UPDATE OF answered_at ON exams_quizquestion
FOR EACH ROW WHEN NEW.answered_at IS NOT NULL AND NEW.answered_at IS NOT OLD.answered_at
BEGIN
    INSERT INTO exams_answersave (item_id, answer, done, saved_at)
    VALUES (NEW.id, NEW.answer, NEW.done, NEW.answered_at);
END
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(TRIGGER)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS exams_answer_saved")


class Migration(migrations.Migration):
    dependencies = [("exams", "0004_quizquestion_quiz_index_in_the_unique_one")]

    operations = [migrations.RunPython(create, drop)]
