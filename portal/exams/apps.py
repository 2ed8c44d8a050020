from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from portal.exams import history  # no model: safe before the apps are ready


def _answer_history_trigger(sender: AppConfig, using: str, **kwargs) -> None:
    """After every migrate: SQLite drops the history trigger when a migration rebuilds the
    items' table (portal.exams.history)."""
    history.ensure_trigger(connections[using])


class ExamsConfig(AppConfig):
    name = "portal.exams"
    label = "exams"
    verbose_name = "Exams"

    def ready(self) -> None:
        post_migrate.connect(_answer_history_trigger, sender=self)
