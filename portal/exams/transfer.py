"""Exams as portable JSON ("portal-exam/1"): export an exam with its question bank, import one."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError

from portal import jsonformat as jf
from portal.customers.models import Customer
from portal.exams.models import Exam, Question, Quiz
from portal.jsonformat import REQUIRED, FormatError

FORMAT = "portal-exam/1"

# Field name → default when the file leaves it out (REQUIRED: it may not).
EXAM_FIELDS: dict[str, Any] = {
    "title": REQUIRED,
    "type": 1,
    "language": REQUIRED,
    "accept_score": 60,
    "number_of_question": REQUIRED,
    "duration": REQUIRED,
    "can_back": True,
    "is_active": True,
    "questions": REQUIRED,
}
QUESTION_FIELDS: dict[str, Any] = {
    "description": REQUIRED,
    "type": True,
    "c1": REQUIRED,
    "c2": REQUIRED,
    "c3": REQUIRED,
    "c4": REQUIRED,
    "correct": REQUIRED,
    "weight": 1.0,
    "can_shuffle": False,
}
TITLE_MAX_LENGTH = Exam._meta.get_field("title").max_length
# The largest values Positive(Small)IntegerField holds on every database Django supports.
SMALL_INT_MAX = 32767
INT_MAX = 2147483647


class ExamFormatError(FormatError):
    """The JSON is not a valid portal-exam/1 document, or cannot be applied to this exam."""


# ---------------------------------------------------------------------------------------------
# Export


def export_exam(exam: Exam) -> dict:
    """Return the exam and its whole question bank, in bank order, as a portal-exam/1 dict."""
    questions = [
        {
            "description": q.description,
            "type": q.type,
            "c1": q.c1,
            "c2": q.c2,
            "c3": q.c3,
            "c4": q.c4,
            "correct": q.correct,
            "weight": float(q.weight),
            "can_shuffle": q.can_shuffle,
        }
        for q in exam.questions.order_by("position", "id")
    ]
    return {
        "format": FORMAT,
        "exam": {
            "title": exam.title,
            "type": exam.type,
            "language": exam.language,
            "accept_score": jf.plain_number(exam.accept_score),
            "number_of_question": exam.number_of_question,
            "duration": exam.duration,
            "can_back": exam.can_back,
            "is_active": exam.is_active,
            "questions": questions,
        },
    }


# ---------------------------------------------------------------------------------------------
# Validation


def _validate_question(obj: Any, number: int) -> dict[str, Any]:
    where = f"Question {number}"
    values = jf.fields(obj, QUESTION_FIELDS, where)
    return {
        "position": number,
        "description": jf.text(values["description"], where, "description"),
        "type": jf.boolean(values["type"], where, "type"),
        **{f"c{n}": jf.text(values[f"c{n}"], where, f"c{n}") for n in range(1, 5)},
        "correct": jf.integer(values["correct"], where, "correct", 1, 4),
        "weight": jf.number(values["weight"], where, "weight", 0),
        "can_shuffle": jf.boolean(values["can_shuffle"], where, "can_shuffle"),
    }


def validate(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check a whole document before anything is written; ExamFormatError says where it is wrong."""
    try:
        return _validate(data)
    except ExamFormatError:
        raise
    except FormatError as error:
        raise ExamFormatError(error.message) from None


def _validate(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return (exam fields, question fields) ready for the models, or raise ExamFormatError."""
    if not isinstance(data, dict):
        raise ExamFormatError("The document must be a JSON object.")
    if "format" not in data:
        raise ExamFormatError(f"Field 'format' is missing; a portal exam file says {FORMAT!r}.")
    if data["format"] != FORMAT:
        raise ExamFormatError(
            f"Field 'format' must be {FORMAT!r}, got {data['format']!r}; "
            "this is not a portal exam file, or a version this portal cannot read."
        )
    unknown = sorted(set(data) - {"format", "exam"})
    if unknown:
        raise ExamFormatError(
            f"Unknown top-level field {', '.join(repr(name) for name in unknown)}."
        )
    if "exam" not in data:
        raise ExamFormatError("Field 'exam' is missing.")
    where = "Exam"
    values = jf.fields(data["exam"], EXAM_FIELDS, where)
    languages = [code for code, _name in settings.LANGUAGES]
    if values["language"] not in languages:
        raise ExamFormatError(
            f"Exam: field 'language' must be one of {', '.join(languages)}, "
            f"got {values['language']!r}."
        )
    exam = {
        "title": jf.text(values["title"], where, "title", TITLE_MAX_LENGTH),
        "type": jf.integer(values["type"], where, "type", 0, SMALL_INT_MAX),
        "language": values["language"],
        "accept_score": jf.number(values["accept_score"], where, "accept_score", 0, 100),
        "number_of_question": jf.integer(
            values["number_of_question"], where, "number_of_question", 1, INT_MAX
        ),
        "duration": jf.integer(values["duration"], where, "duration", 1, INT_MAX),
        "can_back": jf.boolean(values["can_back"], where, "can_back"),
        "is_active": jf.boolean(values["is_active"], where, "is_active"),
    }
    questions = values["questions"]
    if not isinstance(questions, list) or not questions:
        raise ExamFormatError("Exam: field 'questions' must be a non-empty list of questions.")
    bank = [_validate_question(q, number) for number, q in enumerate(questions, start=1)]
    return exam, bank


# ---------------------------------------------------------------------------------------------
# Import


def import_exam(data: dict, *, customer: Customer, exam: Exam | None = None) -> Exam:
    """Create an exam of `customer` from a portal-exam/1 dict, or replace `exam` with it.

    All or nothing: the document is validated before anything is written, and the writes run
    in one transaction. An exam that has quizzes keeps its bank, because the quizzes point at
    its questions (their answers and scores must keep meaning what they meant).
    """
    fields, bank = validate(data)
    with transaction.atomic():
        if exam is None:
            exam = Exam.objects.create(customer=customer, **fields)
        else:
            if exam.customer_id != customer.pk:
                raise ExamFormatError(f"Exam {exam.pk} does not belong to customer {customer}.")
            # Lock the exam row so the check and the replacement see the same quizzes.
            exam = Exam.objects.select_for_update().get(pk=exam.pk)
            _refuse_if_quizzed(exam)
            for name, value in fields.items():
                setattr(exam, name, value)
            exam.save()
            try:
                exam.questions.all().delete()
            except ProtectedError as error:
                # A quiz was created between the check and the delete.
                raise _quizzed_error(exam) from error
        Question.objects.bulk_create(Question(exam=exam, **question) for question in bank)
    return exam


def _quizzed_error(exam: Exam) -> ExamFormatError:
    return ExamFormatError(
        f"Exam {exam.pk} ({exam.title}) already has quizzes, so its question bank can't be "
        "replaced: those quizzes refer to its questions. Import the file as a new exam instead "
        "(without --eurl), and deactivate the old one if it should no longer be launched."
    )


def _refuse_if_quizzed(exam: Exam) -> None:
    if Quiz.objects.filter(exam=exam).exists():
        raise _quizzed_error(exam)
