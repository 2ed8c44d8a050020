"""`manage.py prune`: delete finished deliveries, old attempts, expired sessions, … now."""

from django.core.management.base import BaseCommand

from portal.housekeeping import prune


class Command(BaseCommand):
    help = (
        "Delete what has served its time (the scheduler does so daily): finished deliveries and "
        "old attempts past their retention, the sandbox's received webhooks, expired sessions, "
        "roleplay launch records and rate-limit counters."
    )

    def handle(self, *args, **options) -> None:
        for name, count in prune.prune_all().items():
            self.stdout.write(f"{name}: {count} deleted")
