"""Exams as portable JSON ("portal-exam/1"): export an exam with its live question bank, import one.

The format itself is declared in portal/exams/schema.py; importing goes through the audited
authoring services (portal/exams/authoring.py), like the console and the admin.
"""

from typing import Any

from django.utils.translation import gettext

from portal.customers.models import Customer
from portal.exams.authoring import AuthoringError, exam_import, parse
from portal.exams.models import Exam
from portal.exams.schema import FORMAT, QUESTION_FIELDS, ExamFile
from portal.jsonformat import FormatError, plain_number

__all__ = [
    "FORMAT",
    "MAX_FILE_BYTES",
    "ExamFormatError",
    "export_exam",
    "file_too_large",
    "import_exam",
    "validate",
]

# The largest exam file the console's upload and `import_exam` read. An exam file is a few
# hundred questions of text: far below this.
MAX_FILE_BYTES = 5 * 1024 * 1024


def file_too_large() -> str:
    """Why a file over MAX_FILE_BYTES is refused, wherever it came in."""
    return gettext("The file is larger than %(mb)d MB: that is not an exam file.") % {
        "mb": MAX_FILE_BYTES // (1024 * 1024)
    }


class ExamFormatError(FormatError):
    """The JSON is not a valid portal-exam/1 document, or cannot be applied to this exam."""


def export_exam(exam: Exam) -> dict:
    """The exam and its live question bank, in bank order, as a portal-exam/1 dict.

    Retired questions (earlier versions kept for the quizzes that drew them) are left out.
    """
    questions = [
        {
            name: float(q.weight) if name == "weight" else getattr(q, name)
            for name in QUESTION_FIELDS
        }
        for q in exam.questions.live().order_by("position", "id")
    ]
    return {
        "format": FORMAT,
        "exam": {
            "title": exam.title,
            "type": exam.type,
            "language": exam.language,
            # 60.0 → 60: whole numbers read (and round-trip) as hand-written files have them.
            "accept_score": plain_number(exam.accept_score),
            "number_of_question": exam.number_of_question,
            "duration": exam.duration,
            "can_back": exam.can_back,
            "is_active": exam.is_active,
            "questions": questions,
        },
    }


def validate(data: Any) -> ExamFile:
    """The document checked against the format, before anything is written."""
    if not isinstance(data, dict):
        raise ExamFormatError("The document must be a JSON object.")
    try:
        return parse(ExamFile, data)
    except AuthoringError as error:
        raise ExamFormatError(error.message) from None


def import_exam(data: dict, *, customer: Customer, exam: Exam | None = None) -> Exam:
    """Create an exam of `customer` from a portal-exam/1 dict, or replace `exam`'s with it.

    All or nothing. An exam that has quizzes keeps its id and its drawn questions (retired,
    so the quizzes keep what they saw); see authoring.exam_import. Audited as the system.
    """
    try:
        return exam_import(customer=customer, document=data, actor=None, exam=exam)
    except AuthoringError as error:
        raise ExamFormatError(error.message) from None
