"""`manage.py import_exam FILE --customer NAME`: load a portal-exam/1 JSON file as an exam."""

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from portal.customers.models import Customer
from portal.documents import ImportCommand
from portal.exams.models import Exam
from portal.exams.transfer import MAX_FILE_BYTES, file_too_large, import_exam


class Command(ImportCommand):
    help = (
        "Import an exam and its question bank from a portal-exam/1 JSON file (or - for stdin) "
        "for a customer, and print its eurl. With --eurl, replace that exam's settings and "
        "bank instead, keeping its eurl (questions quizzes drew are retired, not deleted)."
    )
    max_bytes = MAX_FILE_BYTES  # the console's limit on an exam file

    def too_large(self) -> str:
        return file_too_large()

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--customer", required=True, metavar="NAME", help="Name of the owning customer."
        )
        parser.add_argument(
            "--eurl",
            type=int,
            metavar="N",
            help="Update this existing exam of the customer instead of creating a new one.",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help='Print {"eurl": .., "title": .., "questions": n} instead of the bare eurl.',
        )

    def load(self, data: Any, options: dict[str, Any]) -> str:
        customer = Customer.objects.filter(name=options["customer"]).first()
        if customer is None:
            raise CommandError(
                f"No customer named {options['customer']!r}; "
                f"create it with: manage.py create_customer {options['customer']!r}"
            )
        exam = None
        if options["eurl"] is not None:
            exam = Exam.objects.filter(customer=customer, pk=options["eurl"]).first()
            if exam is None:
                raise CommandError(f"Customer {customer} has no exam with eurl {options['eurl']}.")
        exam = import_exam(data, customer=customer, exam=exam)
        if options["json"]:
            summary = {
                "eurl": exam.pk,
                "title": exam.title,
                "questions": exam.questions.live().count(),
            }
            return json.dumps(summary, ensure_ascii=False)
        return str(exam.pk)
