"""The launch's indexes: it reads an exam's live bank in order from one index, question_bank
(exam, retired_at, position), which leads with the exam, so the exam foreign key's own index
goes; a student's customer is indexed by the unique (customer, uuid) constraint, so its foreign
key's own index goes too (one page less for a new student's commit)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0008_answersave_id_a_plain_rowid"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="question",
            index=models.Index(fields=["exam", "retired_at", "position"], name="question_bank"),
        ),
        migrations.AlterField(
            model_name="question",
            name="exam",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="questions",
                to="exams.exam",
            ),
        ),
        migrations.AlterField(
            model_name="student",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="students",
                to="customers.customer",
            ),
        ),
    ]
