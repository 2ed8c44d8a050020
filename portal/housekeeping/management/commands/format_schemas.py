"""`manage.py format_schemas`: write the JSON Schemas of the content file formats to schemas/,
generated from the pydantic models that declare them (or, with --check, say which are stale)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import BaseModel

from portal.exams.schema import ExamFile
from portal.jsonformat import json_schema_text
from portal.roleplays.format import ClusterFile
from portal.scorecards.format import ScorecardFile

# File in schemas/ → the declaration it is generated from.
SCHEMAS: dict[str, type[BaseModel]] = {
    "roleplay-cluster.schema.json": ClusterFile,
    "exam.schema.json": ExamFile,
    "scorecard.schema.json": ScorecardFile,
}


class Command(BaseCommand):
    help = (
        "Write schemas/roleplay-cluster.schema.json, schemas/exam.schema.json and "
        "schemas/scorecard.schema.json, the JSON Schemas of the portal-cluster/1, portal-exam/1 "
        "and portal-scorecard/1 files, from their declarations. "
        "Run it after changing a format; --check only reports files that differ (exit 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; fail if a file is not what the declarations give.",
        )

    def handle(self, *args, **options) -> None:
        stale = []
        for name, model in SCHEMAS.items():
            path = settings.BASE_DIR / "schemas" / name
            text = json_schema_text(model)
            if path.exists() and path.read_text(encoding="utf-8") == text:
                continue
            stale.append(f"schemas/{name}")
            if not options["check"]:
                path.write_text(text, encoding="utf-8")
                self.stdout.write(f"Wrote schemas/{name}.")
        if options["check"] and stale:
            raise CommandError(
                f"Not what the declarations give: {', '.join(stale)}. "
                "Run manage.py format_schemas and commit the result."
            )
        if not stale:
            self.stdout.write("The schemas are up to date.")
