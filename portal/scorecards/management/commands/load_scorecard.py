"""`manage.py load_scorecard [FILE]`: load a portal-scorecard/1 file as a new scorecard version."""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from portal.documents import ImportCommand
from portal.scorecards.content import load_scorecard, validate
from portal.scorecards.models import Scorecard

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "scorecard_v1.json"


class Command(ImportCommand):
    help = (
        "Load AI Reality Check scorecard content from a portal-scorecard/1 JSON file (default: "
        "the bundled scorecard_v1.json; - for stdin) as a new version, and make it the active "
        "one. A version that is already loaded is left as it is (safe to run again)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", metavar="FILE", nargs="?", default=str(DEFAULT_FILE), help="JSON file or -."
        )
        parser.add_argument(
            "--inactive",
            action="store_true",
            help="Load the version without making it the active one.",
        )

    def load(self, data: Any, options: dict[str, Any]) -> str:
        document = validate(data)
        existing = Scorecard.objects.filter(version=document.version).first()
        if existing is not None:
            # Idempotent, so that seed_demo and `make run` can call it every time. Staff
            # edits to a loaded version are kept; a new file needs a new version.
            return f"Scorecard version {existing.version} is already loaded; nothing to do."
        scorecard = load_scorecard(document, activate=not options["inactive"])
        state = "active" if scorecard.is_active else "inactive"
        questions = sum(len(section.questions) for section in document.sections)
        return (
            f"Loaded scorecard version {scorecard.version} ({state}): "
            f"{len(document.sections)} sections, {questions} questions, "
            f"{len(document.recommendations)} recommendation rules."
        )
