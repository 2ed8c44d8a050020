"""`manage.py export_scorecard VERSION`: write a scorecard version as portal-scorecard/1."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.documents import write_document
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
        write_document(
            self,
            export_scorecard(scorecard),
            options["output"],
            what=f"scorecard version {scorecard.version}",
        )
