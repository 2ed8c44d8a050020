"""`manage.py export_exam EURL`: write an exam and its question bank as portal-exam/1 JSON."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.documents import write_document
from portal.exams.models import Exam
from portal.exams.transfer import export_exam


class Command(BaseCommand):
    help = "Write an exam and its whole question bank as portal-exam/1 JSON (stdout by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("eurl", type=int, metavar="EURL", help="The exam's id.")
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="Write to FILE instead of stdout."
        )

    def handle(self, *args, **options) -> None:
        exam = Exam.objects.filter(pk=options["eurl"]).first()
        if exam is None:
            raise CommandError(f"No exam with eurl {options['eurl']}.")
        write_document(
            self, export_exam(exam), options["output"], what=f"exam {exam.pk} ({exam.title})"
        )
