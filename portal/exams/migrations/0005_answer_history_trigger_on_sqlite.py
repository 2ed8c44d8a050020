"""On SQLite the database writes each save's history row (portal.exams.history)."""

from django.db import migrations

from portal.exams import history


class Migration(migrations.Migration):
    dependencies = [("exams", "0004_quizquestion_quiz_index_in_the_unique_one")]

    operations = [migrations.RunPython(history.ensure_in_migration, history.drop_in_migration)]
