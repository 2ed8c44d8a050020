"""`manage.py copy_scorecard VERSION [NEW_VERSION]`: copy a version as a new, inactive one."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.scorecards.content import ScorecardFormatError, scorecard_copy
from portal.scorecards.models import Scorecard


class Command(BaseCommand):
    help = (
        "Copy a scorecard version and all its content as a new, inactive version, to edit in "
        "place of one that has visits (which cannot change). NEW_VERSION defaults to "
        '"VERSION-copy". Activate it in the admin, or load it again with load_scorecard.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", metavar="VERSION", help="The version to copy.")
        parser.add_argument(
            "new_version", metavar="NEW_VERSION", nargs="?", help="The copy's version."
        )

    def handle(self, *args, **options) -> None:
        scorecard = Scorecard.objects.filter(version=options["version"]).first()
        if scorecard is None:
            raise CommandError(f"No scorecard version {options['version']!r}.")
        try:
            copy = scorecard_copy(scorecard=scorecard, version=options["new_version"])
        except ScorecardFormatError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Copied scorecard version {scorecard.version} as {copy.version} (inactive): edit "
            "it in the admin, then make it the active one."
        )
