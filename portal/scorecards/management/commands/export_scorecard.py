"""`manage.py export_scorecard VERSION`: write a scorecard version as portal-scorecard/1."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.scorecards.content import export_scorecard
from portal.scorecards.models import Scorecard


class Command(BaseCommand):
    help = "Write a scorecard version and all its content as portal-scorecard/1 JSON (stdout)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", metavar="VERSION", help='The version, e.g. "2026.1".')
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="Write to FILE instead of stdout."
        )

    def handle(self, *args, **options) -> None:
        scorecard = Scorecard.objects.filter(version=options["version"]).first()
        if scorecard is None:
            raise CommandError(f"No scorecard version {options['version']!r}.")
        text = json.dumps(export_scorecard(scorecard), ensure_ascii=False, indent=2)
        path = options["output"]
        if not path or path == "-":
            self.stdout.write(text)
            return
        try:
            with open(path, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error}") from error
        self.stdout.write(f"Exported scorecard version {scorecard.version} to {path}.")
