# The candidate's "flag for review" on a quiz item (issue 12). A database default too: the
# launch's hand-written INSERTs of items leave the column out. (On SQLite adding it rebuilds the
# table, which drops the history trigger: post_migrate puts it back, portal.exams.history.)

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("exams", "0005_answer_history_trigger_on_sqlite")]

    operations = [
        migrations.AddField(
            model_name="quizquestion",
            name="flagged",
            field=models.BooleanField(db_default=False, default=False),
        ),
    ]
