from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Console",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("view_console", "Can read everything in the staff console"),
                    ("operate", "Can send and replay deliveries, re-sync leads, manage partners"),
                    ("author", "Can edit exams, clusters and scorecard content"),
                ],
            },
        ),
    ]
