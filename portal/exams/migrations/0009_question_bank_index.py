"""A launch reads an exam's live bank in order from one index, question_bank (exam,
retired_at, position), which leads with the exam: the foreign key's own index goes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exams', '0008_answersave_id_a_plain_rowid'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='question',
            index=models.Index(fields=['exam', 'retired_at', 'position'], name='question_bank'),
        ),
        migrations.AlterField(
            model_name='question',
            name='exam',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='questions', to='exams.exam'),
        ),
    ]
