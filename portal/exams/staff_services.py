"""What staff do to an attempt or a student (audited), and what they see of an attempt.

Extra time and re-opening change a quiz's deadline; an accommodation changes how long a
student's new quizzes last. Each writes one audit row in the transaction of the change.
`attempt_review` reads one attempt as the candidate saw it, in a fixed number of queries.

How the two kinds of extra time are kept apart: `Quiz.extra_minutes` counts only what staff
gave (extensions and the windows of re-openings); the accommodation a quiz got at launch is in
its deadline from the start and kept on the quiz (`accommodation_factor`, `_minutes`).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.audit import log
from portal.audit.models import AuditEntry
from portal.exams import services
from portal.exams.models import AnswerSave, Launch, Quiz, QuizQuestion, Student
from portal.exams.services import ExamError
from scoring import exams as exam_scoring

# Minutes staff may give at once, for extra time and for a re-opening: one rule, used by the
# console's form and checked again here.
MINUTES_VALIDATORS = (MinValueValidator(1), MaxValueValidator(600))
QUIZ_FIELDS = (
    "state",
    "deadline_at",
    "end_at",
    "finished_by",
    "extra_minutes",
    "reopened_at",
    "percentage",
    "total_score",
    "is_accept",
)
ACCOMMODATION_FIELDS = ("extra_minutes", "time_factor")


def check_minutes(minutes: int) -> int:
    """The minutes, if within the bounds staff may give; ExamError otherwise."""
    try:
        for validator in MINUTES_VALIDATORS:
            validator(minutes)
    except ValidationError as error:
        raise ExamError(error.messages[0], code="invalid_minutes") from None
    return minutes


def _locked(quiz: Quiz) -> Quiz:
    return Quiz.objects.select_for_update(of=("self",)).select_related("exam").get(pk=quiz.pk)


def _refresh(target: Quiz, source: Quiz) -> None:
    for name in (*QUIZ_FIELDS, *services.RESULT_FIELDS, "start_at"):
        setattr(target, name, getattr(source, name))


def quiz_extend(*, quiz: Quiz, minutes: int, actor: Any) -> Quiz:
    """Add minutes to the server deadline of a started quiz, including one whose time ran out
    but which is not completed yet; the candidate's page learns the new deadline by itself."""
    check_minutes(minutes)
    with transaction.atomic():
        locked = _locked(quiz)
        if locked.is_finished:
            if locked.finished_by == Quiz.FinishedBy.DEADLINE:
                message = _(
                    "This attempt is already completed (its time ran out): extra time can't be "
                    "added. Re-open it instead if it expired because of a fault."
                )
            else:
                message = _(
                    "This attempt is already completed (the candidate submitted it): extra "
                    "time can't be added."
                )
            raise ExamError(message, code="quiz_finished")
        before = log.snapshot(locked, ("deadline_at", "extra_minutes"))
        locked.deadline_at = services.later(locked.deadline_at, minutes)
        locked.extra_minutes += minutes
        locked.save(update_fields=["deadline_at", "extra_minutes"])
        log.record(
            actor=actor,
            action="quiz.extend",
            target=locked,
            before=before,
            after=log.snapshot(locked, ("deadline_at", "extra_minutes")),
            note=f"+{minutes} min",
        )
    _refresh(quiz, locked)
    return quiz


def quiz_reopen(*, quiz: Quiz, minutes: int, actor: Any) -> Quiz:
    """Re-open a quiz that the deadline completed (e.g. the candidate's connection or our
    service failed): started again until now + minutes, its result cleared until it is
    finished again. A quiz the candidate submitted is never re-opened."""
    check_minutes(minutes)
    try:
        with transaction.atomic():
            locked = _locked(quiz)
            if not locked.is_finished:
                raise ExamError(
                    _("This attempt is still open: give it extra time instead."),
                    code="quiz_open",
                )
            if locked.finished_by != Quiz.FinishedBy.DEADLINE:
                raise ExamError(
                    _(
                        "Only an attempt completed by its deadline can be re-opened; this one "
                        "was submitted by the candidate."
                    ),
                    code="quiz_submitted",
                )
            other = (
                Quiz.objects.filter(
                    student_id=locked.student_id, exam_id=locked.exam_id, state=Quiz.State.STARTED
                )
                .exclude(pk=locked.pk)
                .values_list("pk", flat=True)
                .first()
            )
            if other is not None:
                raise _another_open(other)
            before = log.snapshot(locked, QUIZ_FIELDS)
            now = timezone.now()
            locked.state = Quiz.State.STARTED
            locked.deadline_at = services.later(now, minutes)
            locked.extra_minutes += minutes
            locked.reopened_at = now
            locked.end_at = None
            locked.finished_by = ""
            for name in services.RESULT_FIELDS:
                setattr(locked, name, None)
            locked.save()  # IntegrityError if a launch started another quiz meanwhile
            log.record(
                actor=actor,
                action="quiz.reopen",
                target=locked,
                before=before,
                after=log.snapshot(locked, QUIZ_FIELDS),
                note=f"{minutes} min",
            )
    except IntegrityError:
        other = (
            Quiz.objects.filter(
                student_id=quiz.student_id, exam_id=quiz.exam_id, state=Quiz.State.STARTED
            )
            .values_list("pk", flat=True)
            .first()
        )
        raise _another_open(other) from None
    _refresh(quiz, locked)
    return quiz


def _another_open(other_pk: int | None) -> ExamError:
    return ExamError(
        _(
            "The student has another attempt of this exam open (quiz %(quiz)s): only one can "
            "be open at a time. Wait until it is finished."
        )
        % {"quiz": other_pk or "?"},
        code="another_quiz_open",
    )


def student_set_accommodation(
    *, student: Student, extra_minutes: int, time_factor: Decimal | int | str, actor: Any
) -> bool:
    """Set how much longer the student's new quizzes last; started ones keep their deadline.

    Checked by the model fields' own validators (as the console's form and the admin), so a
    refusal is a ValidationError with the same message. Returns whether anything changed.
    """
    with transaction.atomic():
        locked = Student.objects.select_for_update().get(pk=student.pk)
        before = log.snapshot(locked, ACCOMMODATION_FIELDS)
        locked.extra_minutes = extra_minutes
        locked.time_factor = time_factor
        # clean_fields converts the values as the model field does, then runs its validators.
        locked.clean_fields(
            exclude=[f.name for f in Student._meta.fields if f.name not in ACCOMMODATION_FIELDS]
        )
        locked.time_factor = locked.time_factor.quantize(Decimal("0.01"))
        after = log.snapshot(locked, ACCOMMODATION_FIELDS)
        if not log.diff(before, after):
            return False
        locked.save(update_fields=list(ACCOMMODATION_FIELDS))
        log.record(
            actor=actor, action="student.accommodation", target=locked, before=before, after=after
        )
    student.extra_minutes, student.time_factor = locked.extra_minutes, locked.time_factor
    return True


def quiz_callback_link(*, quiz: Quiz, launch_id: Any, actor: Any) -> str:
    """The signed callback link of one of the quiz's launches, as the candidate's browser was
    (or would have been) sent back to the customer. Handing it out is recorded."""
    try:
        key = UUID(str(launch_id))
    except ValueError:
        key = None
    launch = (
        Launch.objects.select_related("quiz__student__customer", "quiz__exam")
        .filter(pk=key, quiz=quiz)
        .first()
        if key is not None
        else None
    )
    if launch is None:
        raise ExamError(_("Launch not found."), code="launch_not_found", status=404)
    url = services.redirect_url(launch)  # ExamError when the quiz is not finished
    log.record(
        actor=actor,
        action="quiz.callback_link",
        target=launch.quiz,
        note=f"launch {launch.launch_id}",
    )
    return url


# ---------------------------------------------------------------------------------------------
# Reading an attempt


@dataclass(frozen=True)
class Choice:
    number: int  # as shown to the candidate
    original: int  # in the bank (c1..c4)
    text: str
    chosen: bool
    correct: bool


@dataclass(frozen=True)
class Save:
    at: datetime
    shown: int | None  # the choice as the candidate saw it
    done: str


@dataclass(frozen=True)
class ReviewItem:
    position: int
    item: QuizQuestion
    choices: tuple[Choice, ...]
    chosen: int | None  # shown number
    correct: int  # shown number
    is_right: bool
    points: float
    weight: float
    saves: tuple[Save, ...]
    retired: bool  # the question was edited or removed since (this is the version drawn)


@dataclass(frozen=True)
class LaunchRow:
    launch: Launch
    callback_host: str


@dataclass(frozen=True)
class Review:
    quiz: Quiz
    items: tuple[ReviewItem, ...]
    launches: tuple[LaunchRow, ...]
    history: tuple[AuditEntry, ...]
    accommodation: dict | None  # what applied at launch, or None
    pass_mark: float
    points: float
    max_points: float
    callback_params: dict[str, str] | None  # of the latest launch, for a completed quiz

    @property
    def timeline(self) -> list[tuple[datetime, str, Any]]:
        """Start, each save, the end and staff actions, in time order."""
        events: list[tuple[datetime, str, Any]] = [(self.quiz.start_at, "start", None)]
        for review_item in self.items:
            events += [(save.at, "save", (review_item, save)) for save in review_item.saves]
        events += [(entry.at, "staff", entry) for entry in self.history]
        if self.quiz.end_at:
            events.append((self.quiz.end_at, "end", self.quiz.finished_by))
        return sorted(events, key=lambda event: event[0])


def attempt_review(quiz_pk: int) -> Review:
    """One attempt as the candidate saw it: five queries however many questions it has."""
    quiz = get_object_or_404(Quiz.objects.select_related("student__customer", "exam"), pk=quiz_pk)
    if quiz.pending_items:  # nobody has opened it yet: its items are written to be reviewed
        services.write_pending_items(Quiz.objects.filter(pk=quiz.pk))
    items = list(
        QuizQuestion.objects.filter(quiz=quiz)
        .select_related("question")
        .prefetch_related(Prefetch("saves", queryset=AnswerSave.objects.order_by("saved_at", "pk")))
    )
    launches = list(Launch.objects.filter(quiz=quiz).order_by("created_at"))
    for launch in launches:
        launch.quiz = quiz
    history = list(
        AuditEntry.objects.filter(target_type="quiz", target_id=str(quiz.pk)).order_by("at")
    )
    accommodation = None
    if quiz.accommodation_factor != 1 or quiz.accommodation_minutes:
        accommodation = {
            "time_factor": quiz.accommodation_factor,
            "extra_minutes": quiz.accommodation_minutes,
            "added_minutes": services.plain_minutes(
                Decimal(quiz.exam.duration) * (quiz.accommodation_factor - 1)
                + quiz.accommodation_minutes
            ),
        }
    reviewed = tuple(_review_item(item) for item in items)
    return Review(
        quiz=quiz,
        items=reviewed,
        launches=tuple(LaunchRow(la, urlsplit(la.callback_url).hostname or "") for la in launches),
        history=tuple(history),
        accommodation=accommodation,
        pass_mark=services.pass_mark(quiz),
        points=sum(r.points for r in reviewed),
        max_points=sum(r.weight for r in reviewed),
        callback_params=services.callback_params(launches[-1])
        if launches and quiz.is_finished
        else None,
    )


def _review_item(item: QuizQuestion) -> ReviewItem:
    question = item.question
    order = item.order
    choices = tuple(
        Choice(
            number=shown,
            original=original,
            text=question.choice(original),
            chosen=item.answer == original,
            correct=question.correct == original,
        )
        for shown, original in enumerate(order, start=1)
    )
    is_right = item.answer is not None and item.answer == question.correct
    return ReviewItem(
        position=item.position,
        item=item,
        choices=choices,
        chosen=item.shown_answer,
        correct=exam_scoring.to_shown(order, question.correct),
        is_right=is_right,
        points=question.weight if is_right else 0.0,
        weight=question.weight,
        saves=tuple(
            Save(
                at=save.saved_at,
                shown=None if save.answer is None else exam_scoring.to_shown(order, save.answer),
                done=save.done,
            )
            for save in item.saves.all()
        ),
        retired=question.retired_at is not None,
    )
