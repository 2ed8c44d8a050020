"""Authoring exams and their question banks: every change validated by the one declared format
(portal/exams/schema.py), written under a lock on the exam row, and audited.

A question that a quiz has drawn is never changed: an edit makes a new version at the same
position and retires the old one, a removal retires it, so every quiz keeps what its candidate
saw and was scored on. New quizzes draw from the live bank (`Question.objects.live()`). The
console, the admin and `manage.py import_exam` all come through here.
"""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import BaseModel, ValidationError

from portal.audit import log
from portal.customers.models import Customer
from portal.exams import schema
from portal.exams.models import Exam, Question, draws
from portal.exams.schema import (
    QUESTION_FIELDS,
    SETTINGS_FIELDS,
    ExamFile,
    ExamIn,
    ExamSettingsIn,
    Problem,
    QuestionIn,
)

__all__ = [
    "AuthoringError",
    "ExamFile",
    "ExamIn",
    "ExamSettingsIn",
    "QuestionIn",
    "exam_create",
    "exam_import",
    "exam_set_active",
    "exam_update_settings",
    "parse",
    "question_add",
    "question_remove",
    "question_update",
    "questions_reorder",
]

NON_FIELD = "__all__"


class AuthoringError(Exception):
    """A refused change. `messages` maps a field ("correct", "number_of_question",
    "questions[2].c1", or "__all__" for the whole) to its messages, as a form shows them;
    `message` is all of it as text, each line with its place (what a command prints)."""

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem((), problems)]
        self.problems = problems
        self.messages: dict[str, list[str]] = schema.messages(problems)
        self.message = schema.describe(problems)
        super().__init__(self.message)

    @classmethod
    def on(cls, field: str, message: str) -> "AuthoringError":
        return cls([Problem((field,), message)])


def parse[M: BaseModel](model: type[M], data: M | Mapping[str, Any]) -> M:
    """`data` validated as `model` (a model instance is taken as it is); AuthoringError if not."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise AuthoringError(schema.problems(error)) from None


# ---------------------------------------------------------------------------------------------
# Exams


def exam_create(*, customer: Customer, data: ExamIn | Mapping[str, Any], actor: Any) -> Exam:
    """A new exam of `customer` with its question bank (positions 1..n in the given order)."""
    return _create(customer, parse(ExamIn, data), actor=actor, action="exam.create")


def _create(customer: Customer, data: ExamIn, *, actor: Any, action: str) -> Exam:
    """The exam and its questions, with the audit row of `action`, in one transaction."""
    with transaction.atomic():
        exam = Exam.objects.create(customer=customer, **data.model_dump(exclude={"questions"}))
        Question.objects.bulk_create(
            Question(exam=exam, position=n, **question.model_dump())
            for n, question in enumerate(data.questions, start=1)
        )
        log.record(
            actor=actor, action=action, target=exam, after=_exam_state(exam, len(data.questions))
        )
    return exam


def exam_update_settings(
    *, exam: Exam, data: ExamSettingsIn | Mapping[str, Any], actor: Any
) -> Exam:
    """Change an exam's settings; they apply to quizzes launched from now on.

    Optional fields the data leaves out (e.g. `is_active` from a form without it) keep their
    value. Refused when each quiz would draw more questions than the live bank holds.
    """
    data = parse(ExamSettingsIn, data)
    given = {
        name
        for name, info in ExamSettingsIn.model_fields.items()
        if info.is_required() or name in data.model_fields_set
    }
    with transaction.atomic():
        locked = _lock(exam)
        bank = locked.questions.live().count()
        if data.number_of_question > bank:
            raise AuthoringError.on(
                "number_of_question", schema.bank_too_small_message(data.number_of_question, bank)
            )
        before = _exam_state(locked, bank)
        for name in given:
            setattr(locked, name, getattr(data, name))
        locked.save()
        log.record(
            actor=actor,
            action="exam.update",
            target=locked,
            before=before,
            after=_exam_state(locked, bank),
        )
    _refresh(exam, locked)
    return exam


def exam_set_active(*, exam: Exam, active: bool, actor: Any) -> Exam:
    """Open the exam to launches, or close it (started quizzes can still be finished)."""
    if not isinstance(active, bool):
        raise TypeError("active must be a bool")
    with transaction.atomic():
        locked = _lock(exam)
        if active:
            bank = locked.questions.live().count()
            if bank < locked.number_of_question:
                raise AuthoringError.on(
                    "is_active", schema.bank_too_small_message(locked.number_of_question, bank)
                )
        if locked.is_active != active:
            locked.is_active = active
            locked.save(update_fields=["is_active", "updated_at"])
            log.record(
                actor=actor,
                action="exam.activate" if active else "exam.deactivate",
                target=locked,
                before={"is_active": not active},
                after={"is_active": active},
            )
    _refresh(exam, locked)
    return exam


# ---------------------------------------------------------------------------------------------
# Questions


def _bank_changed(exam: Exam) -> None:
    """A change to the exam's questions is a change to the exam (the console's "Updated"):
    `exam`, locked by the caller, saved with its auto_now time."""
    exam.save(update_fields=["updated_at"])


def question_add(*, exam: Exam, data: QuestionIn | Mapping[str, Any], actor: Any) -> Question:
    """A new question at the end of the live bank."""
    data = parse(QuestionIn, data)
    with transaction.atomic():
        locked = _lock(exam)
        last = locked.questions.live().order_by("-position").values_list("position", flat=True)
        question = Question.objects.create(
            exam=locked, position=(last.first() or 0) + 1, **data.model_dump()
        )
        _bank_changed(locked)
        log.record(
            actor=actor,
            action="exam.question_add",
            target=locked,
            after=_question_state(question),
            note=_("Question %(id)d added.") % {"id": question.pk},
        )
    return question


def question_update(
    *, question: Question, data: QuestionIn | Mapping[str, Any], actor: Any
) -> Question:
    """Change a question and return its live version.

    Once a quiz has drawn it, the question itself is kept as it was (retired, pointing to its
    replacement) and the new content becomes a new question at the same position.
    """
    data = parse(QuestionIn, data)
    with transaction.atomic():
        exam = _lock(question.exam)
        current = _lock_live_question(question)
        values = data.model_dump()
        if all(getattr(current, name) == value for name, value in values.items()):
            return current
        before = _question_state(current)
        if _drawn(current):
            live = Question.objects.create(
                exam_id=current.exam_id, position=current.position, **values
            )
            current.retired_at = timezone.now()
            current.replaced_by = live
            current.save(update_fields=["retired_at", "replaced_by"])
            note = _(
                "Question %(old)d was drawn by quizzes, so it is kept for them; "
                "its new version is question %(new)d."
            ) % {"old": current.pk, "new": live.pk}
        else:
            live = current
            for name, value in values.items():
                setattr(live, name, value)
            live.save(update_fields=list(values))
            note = _("Question %(id)d changed.") % {"id": live.pk}
        _bank_changed(exam)
        log.record(
            actor=actor,
            action="exam.question_update",
            target=live.exam,
            before=before,
            after=_question_state(live),
            note=note,
        )
    return live


def question_remove(*, question: Question, actor: Any) -> None:
    """Take a question out of the live bank: deleted if no quiz drew it, else retired.

    Refused when the bank would hold fewer questions than each quiz draws.
    """
    with transaction.atomic():
        exam = _lock(question.exam)
        current = _lock_live_question(question)
        bank = exam.questions.live().count()
        if bank - 1 < exam.number_of_question:
            raise AuthoringError.on(
                NON_FIELD,
                ngettext(
                    "Each quiz draws %(draws)d questions and the bank has %(bank)d question: "
                    "add a question or draw fewer before removing one.",
                    "Each quiz draws %(draws)d questions and the bank has %(bank)d questions: "
                    "add a question or draw fewer before removing one.",
                    bank,
                )
                % {"draws": exam.number_of_question, "bank": bank},
            )
        before = _question_state(current)
        if _drawn(current):
            current.retired_at = timezone.now()
            current.save(update_fields=["retired_at"])
            note = _("Question %(id)d retired (quizzes drew it).") % {"id": current.pk}
        else:
            current.delete()
            note = _("Question %(id)d deleted.") % {"id": before["id"]}
        _bank_changed(exam)
        log.record(
            actor=actor, action="exam.question_remove", target=exam, before=before, note=note
        )


def questions_reorder(*, exam: Exam, order: list[int], actor: Any) -> None:
    """Put the live bank in `order`: the ids of every live question, each once."""
    with transaction.atomic():
        locked = _lock(exam)
        live = list(locked.questions.live().order_by("position", "id"))
        ids = [q.pk for q in live]
        if len(order) != len(set(order)) or sorted(order) != sorted(ids):
            raise AuthoringError.on(
                NON_FIELD,
                _("The new order must list every question of the bank once; reload and retry."),
            )
        by_id = {q.pk: q for q in live}
        for position, pk in enumerate(order, start=1):
            by_id[pk].position = position
        Question.objects.bulk_update(live, ["position"])
        if order != ids:
            _bank_changed(locked)
            log.record(
                actor=actor,
                action="exam.questions_reorder",
                target=locked,
                before={"order": ids},
                after={"order": list(order)},
            )


# ---------------------------------------------------------------------------------------------
# Files


def exam_import(
    *, customer: Customer, document: Mapping[str, Any], actor: Any, exam: Exam | None = None
) -> Exam:
    """Create an exam of `customer` from a portal-exam/1 document, or replace `exam` with it.

    All or nothing. Replacing keeps the exam's id (its eurl, in customers' links); questions
    quizzes drew are retired rather than deleted, so earlier attempts keep what they saw. A
    question the file has unchanged at the same place is kept as it is.
    """
    if not isinstance(document, Mapping):
        raise AuthoringError(_("The document must be a JSON object."))
    data = parse(ExamFile, document).exam
    if exam is None:
        return _create(customer, data, actor=actor, action="exam.import")
    if exam.customer_id != customer.pk:
        raise AuthoringError(
            _("Exam %(eurl)d does not belong to customer %(customer)s.")
            % {"eurl": exam.pk, "customer": customer}
        )
    with transaction.atomic():
        locked = _lock(exam)
        # A launch waits for this to commit (it holds the exam's row while it draws, and its
        # quiz is not written when a question it drew is gone), so "not drawn" stays true.
        live = list(locked.questions.live().order_by("position", "id"))
        before = _exam_state(locked, len(live))
        for name in SETTINGS_FIELDS:
            setattr(locked, name, getattr(data, name))
        locked.save()
        drawn = set(draws(locked.pk, (question.pk for question in live)))
        now = timezone.now()
        kept = added = retired = deleted = 0
        for index, incoming in enumerate(data.questions):
            values = incoming.model_dump()
            old = live[index] if index < len(live) else None
            if old is not None and all(getattr(old, k) == v for k, v in values.items()):
                old.position = index + 1
                old.save(update_fields=["position"])
                live[index] = None
                kept += 1
                continue
            new = Question.objects.create(exam=locked, position=index + 1, **values)
            added += 1
            if old is not None and old.pk in drawn:
                old.retired_at, old.replaced_by = now, new
                old.save(update_fields=["retired_at", "replaced_by"])
                live[index] = None
                retired += 1
        for old in filter(None, live):
            if old.pk in drawn:
                old.retired_at = now
                old.save(update_fields=["retired_at"])
                retired += 1
            else:
                old.delete()
                deleted += 1
        log.record(
            actor=actor,
            action="exam.import",
            target=locked,
            before=before,
            after=_exam_state(locked, len(data.questions)),
            note=_(
                "Bank replaced: %(kept)d kept, %(added)d added, %(retired)d retired, "
                "%(deleted)d deleted."
            )
            % {"kept": kept, "added": added, "retired": retired, "deleted": deleted},
        )
    _refresh(exam, locked)
    return exam


# ---------------------------------------------------------------------------------------------
# Helpers


def _lock(exam: Exam) -> Exam:
    """The exam's row, locked until the transaction ends: authors saving at once take turns."""
    return Exam.objects.select_for_update().get(pk=exam.pk)


def _lock_live_question(question: Question) -> Question:
    current = Question.objects.select_for_update().filter(pk=question.pk).first()
    if current is None or current.retired_at is not None:
        raise AuthoringError.on(
            NON_FIELD,
            _("This question has been changed or removed meanwhile; reload the bank."),
        )
    return current


def _drawn(question: Question) -> bool:
    return bool(draws(question.exam_id, [question.pk]))


def _refresh(exam: Exam, locked: Exam) -> None:
    """Give the caller's instance the saved values."""
    for name in (*SETTINGS_FIELDS, "updated_at"):
        setattr(exam, name, getattr(locked, name))


def _exam_state(exam: Exam, bank: int) -> dict[str, Any]:
    return {**log.snapshot(exam, SETTINGS_FIELDS), "questions": bank}


def _question_state(question: Question) -> dict[str, Any]:
    return log.snapshot(question, ("id", "position", *QUESTION_FIELDS))
