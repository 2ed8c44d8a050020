"""The integrations app: the outbox of every message the portal sends to the outside world."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    label = "integrations"
    verbose_name = "Outbound deliveries"

    def ready(self) -> None:
        # Not at import: a task module needs the app registry (Django's rule for ready()).
        from integrations import deliveries, tasks

        # The outbox enqueues its task without importing the tasks module, which builds on it.
        deliveries.use_task(tasks.deliver)
