"""`manage.py copy_scorecard VERSION [NEW_VERSION]`: copy a version as a new, inactive one."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.scorecards.content import ScorecardFormatError, free_version, scorecard_copy
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
        version = options["new_version"]
        if version is not None:
            # "" is refused as "  " is, rather than read as "not given" (a script's empty
            # variable should not copy under a name nobody chose).
            if not version.strip():
                raise CommandError(
                    "NEW_VERSION must not be blank; leave it out to name the copy "
                    f"{free_version(scorecard.version)!r}."
                )
            if Scorecard.objects.filter(version=version).exists():
                raise CommandError(
                    f"Scorecard version {version!r} already exists; give the copy another "
                    f"NEW_VERSION, or leave it out to name it {free_version(scorecard.version)!r}."
                )
        try:
            copy = scorecard_copy(scorecard=scorecard, version=version)
        except ScorecardFormatError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Copied scorecard version {scorecard.version} as {copy.version} (inactive): edit "
            "it in the admin, then make it the active one."
        )
