"""`manage.py sweep_deliveries`: what the per-minute sweep does, now (or sent in-process)."""

from argparse import ArgumentParser

from django.core.management.base import BaseCommand

from integrations import deliveries
from integrations.models import Delivery


class Command(BaseCommand):
    help = (
        "Enqueue every pending delivery that is due, not claimed by a worker and whose task was "
        "lost (what the per-minute periodic task does); with --send, send every due one from "
        "this process instead."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--send",
            action="store_true",
            help="Send due deliveries here, one attempt each, without the task queue.",
        )

    def handle(self, *args: str, send: bool = False, **options: object) -> None:
        if not send:
            count = deliveries.sweep_deliveries()
            self.stdout.write(f"Enqueued {count} due deliveries.")
            return
        outcomes: dict[str, int] = {}
        for pk in list(
            Delivery.objects.due().order_by("next_attempt_at").values_list("pk", flat=True)
        ):
            outcome = deliveries.attempt_delivery(pk)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(f"Sent due deliveries: {summary or 'none was due'}.")
