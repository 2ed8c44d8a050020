"""`manage.py export_scorecard VERSION`: write a scorecard version as portal-scorecard/1."""

from portal.documents import ExportCommand
from portal.scorecards.content import export_scorecard
from portal.scorecards.models import Scorecard


class Command(ExportCommand):
    help = "Write a scorecard version and all its content as portal-scorecard/1 JSON (stdout)."
    key, key_help = "version", 'The version, e.g. "2026.1".'
    model, lookup, exporter = Scorecard, "version", export_scorecard
    not_found = "No scorecard version {key!r}."
    what = "scorecard version {record.version}"
