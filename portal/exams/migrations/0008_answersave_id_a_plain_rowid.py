"""The history table's id without SQLite's AUTOINCREMENT (portal.db.RowidAutoField). SQLite
rebuilds the table for it: the trigger that writes into it (portal.exams.history) is dropped
first, since SQLite refuses to rename a table under a trigger naming a missing one, and made
again after."""

from django.db import migrations

import portal.db
from portal.exams import history


class Migration(migrations.Migration):
    dependencies = [("exams", "0007_quiz_pending_items")]

    operations = [
        migrations.RunPython(history.drop_in_migration, history.ensure_in_migration),
        migrations.AlterField(
            model_name="answersave",
            name="id",
            field=portal.db.RowidAutoField(primary_key=True, serialize=False),
        ),
        migrations.RunPython(history.ensure_in_migration, history.drop_in_migration),
    ]
