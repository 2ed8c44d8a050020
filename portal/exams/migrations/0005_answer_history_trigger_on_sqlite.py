"""On SQLite the database writes each save's history row (portal.exams.history)."""

from django.db import migrations


def create(apps, schema_editor) -> None:
    from portal.exams import history

    history.ensure_trigger(schema_editor.connection)


def drop(apps, schema_editor) -> None:
    from portal.exams import history

    history.drop_trigger(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("exams", "0004_quizquestion_quiz_index_in_the_unique_one")]

    operations = [migrations.RunPython(create, drop)]
