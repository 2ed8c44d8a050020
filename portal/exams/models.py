"""Exam content (exam, question bank) and what candidates do with it (quiz, launch, answers)."""

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from portal.customers.models import Customer
from portal.db import RowidAutoField, from_db_rows
from scoring import exams as exam_scoring


class Exam(models.Model):
    """The seed's "Evaluation"; its id is the public `eurl`."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="exams")
    title = models.CharField(max_length=300)
    type = models.PositiveSmallIntegerField(default=1)
    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default="en", help_text="Language of the pages."
    )
    accept_score = models.FloatField(
        default=60,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Pass mark, in percent of the weighted score.",
    )
    number_of_question = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Questions drawn from the bank per quiz."
    )
    duration = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Minutes from launch to the deadline."
    )
    can_back = models.BooleanField(default=True, help_text="May answered questions be changed?")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(number_of_question__gte=1, duration__gte=1),
                name="exam_draws_and_lasts_at_least_one",
            ),
            models.CheckConstraint(
                condition=Q(accept_score__gte=0, accept_score__lte=100),
                name="exam_accept_score_is_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (eurl {self.pk})"

    @property
    def eurl(self) -> int:
        return self.pk


class QuestionQuerySet(models.QuerySet):
    def live(self) -> "QuestionQuerySet":
        """The bank new quizzes draw from: questions not retired (edited or removed)."""
        return self.filter(retired_at__isnull=True)


class Question(models.Model):
    # Indexed by question_bank (below), which leads with it.
    exam = models.ForeignKey(
        Exam, on_delete=models.CASCADE, related_name="questions", db_index=False
    )
    position = models.PositiveIntegerField(default=0)
    description = models.TextField()
    type = models.BooleanField(default=True, help_text="True for a four-choice question.")
    c1 = models.TextField()
    c2 = models.TextField()
    c3 = models.TextField()
    c4 = models.TextField()
    correct = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="Number of the right choice (1–4); never shown before the quiz ends.",
    )
    weight = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    can_shuffle = models.BooleanField(default=False)
    # An edited or removed question that quizzes already drew is retired, not changed: those
    # quizzes keep what they saw and were scored on; new quizzes draw from the live bank.
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    replaced_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = QuestionQuerySet.as_manager()

    # Not columns: the console's question editor (portal.staff.views.exams) sets them.
    used_by: int  # how many quizzes drew the question
    choice_rows: list[tuple[int, str, bool]]  # (number, text, correct)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # An exam's questions, and its live bank in order read from the index alone (a
            # launch reads it: portal.exams.services._launch_sql); the id is in every entry.
            models.Index(fields=["exam", "retired_at", "position"], name="question_bank"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(correct__gte=1, correct__lte=4), name="question_correct_1_to_4"
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="question_weight_not_negative"),
        ]

    def __str__(self) -> str:
        return self.description[:80]

    def choice(self, number: int) -> str:
        return getattr(self, f"c{number}")


class Student(models.Model):
    """A customer's end user, known by the customer's own id (`student_uuid`)."""

    # Indexed by student_unique_per_customer (below), which leads with it: an index of its own
    # was one more page for every new student's commit to write.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="students", db_index=False
    )
    uuid = models.CharField(max_length=128)
    mobile = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Accommodation: every new quiz of this student lasts duration × time_factor + extra minutes.
    extra_minutes = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(1440)])
    time_factor = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="e.g. 1.25 for 25 % more time.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "uuid"], name="student_unique_per_customer")
        ]

    def __str__(self) -> str:
        return self.uuid


class Quiz(models.Model):
    """One sitting of an exam by a student: the drawn questions, the deadline and the result."""

    class State(models.TextChoices):
        STARTED = "started"
        COMPLETED = "completed"

    class FinishedBy(models.TextChoices):
        SUBMIT = "submit"
        DEADLINE = "deadline"

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="quizzes")
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="quizzes")
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTED)
    shuffle_seed = models.BigIntegerField()
    start_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    end_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.CharField(max_length=16, choices=FinishedBy.choices, blank=True)
    total_questions = models.PositiveIntegerField(default=0)
    correct_answers = models.PositiveIntegerField(null=True, blank=True)
    wrong_answers = models.PositiveIntegerField(null=True, blank=True)
    unanswered = models.PositiveIntegerField(null=True, blank=True)
    percentage = models.FloatField(null=True, blank=True)
    total_score = models.FloatField(null=True, blank=True)
    is_accept = models.BooleanField(null=True, blank=True)
    # The pass mark as it was at launch (an edit of the exam never changes a quiz's verdict);
    # null on quizzes launched before it was recorded: the exam's applies.
    accept_score = models.FloatField(null=True, blank=True, editable=False)
    # Minutes staff added to this quiz's deadline (included in deadline_at).
    extra_minutes = models.PositiveIntegerField(default=0)
    # The student's accommodation as it applied at launch (also in deadline_at).
    accommodation_factor = models.DecimalField(max_digits=3, decimal_places=2, default=1)
    accommodation_minutes = models.PositiveIntegerField(default=0)
    reopened_at = models.DateTimeField(null=True, blank=True)
    # The drawn question ids in order ("12,45,78") until the quiz's items are written: a launch
    # writes this one row, and the items (QuizQuestion) are written when the quiz is first
    # saved to, flagged or finished (services.write_pending_items); empty ever after. Launches
    # that nobody opens never write them. Readers of one quiz's items get the same items either
    # way (services.quiz_items, rendering.page_items); models.draws counts both.
    pending_items = models.TextField(blank=True, default="", editable=False)

    class Meta:
        verbose_name_plural = "quizzes"
        constraints = [
            # Parallel launches for one student and exam must resume, not duplicate.
            models.UniqueConstraint(
                fields=["student", "exam"],
                condition=Q(state="started"),
                name="one_started_quiz_per_student_and_exam",
            )
        ]
        indexes = [
            models.Index(fields=["deadline_at"], condition=Q(state="started"), name="quiz_due")
        ]

    def __str__(self) -> str:
        return f"Quiz {self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state == self.State.COMPLETED

    @property
    def is_overdue(self) -> bool:
        """Started, and past its deadline: the next request to it or the minute's sweep
        finishes it (services.finish_expired_quizzes)."""
        return not self.is_finished and self.deadline_at <= timezone.now()

    @staticmethod
    def pending_text(question_ids: Iterable[int]) -> str:
        """pending_items of a quiz that drew these questions, in order: "12,45,78"."""
        return ",".join(map(str, question_ids))

    @property
    def pending_question_ids(self) -> list[int]:
        """The drawn questions whose items are not written yet, in order (none once written)."""
        return [int(pk) for pk in self.pending_items.split(",")] if self.pending_items else []

    def pending_questions(self, fields: Sequence[str]) -> list[tuple]:
        """(question id, choice order, *fields) of each pending drawn question, in drawn order:
        one query by key (the ORM's `pk__in` prepared each of hundreds of ids)."""
        if not self.pending_items:
            return []
        names = ("id", "can_shuffle", *fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(names)}"
                f" FROM {Question._meta.db_table}"
                f" WHERE id IN ({pending_ids_sql(connection.vendor, '%s')})",
                [self.pending_items],
            )
            found = {row[0]: row for row in from_db_rows(Question, names, cursor.fetchall())}
        return [
            (pk, self.choice_order_of(pk, found[pk][1]), *found[pk][2:])
            for pk in self.pending_question_ids
        ]

    def choice_order_of(self, question_id: int, can_shuffle: bool) -> str:
        """The choice order ("3142") of a question drawn into this quiz: the same from its seed
        whenever it is asked, so a quiz's items may be written after its launch."""
        order = exam_scoring.choice_order(self.shuffle_seed, question_id, can_shuffle)
        return "".join(map(str, order))


class Launch(models.Model):
    """A customer's launch of a student into a quiz; `launch_id` is the candidate's key.

    Each launch call creates one, with its own callback_url; a resumed quiz gets a new launch,
    so a student can continue on another device when the customer launches again.
    """

    launch_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="launches")
    callback_url = models.URLField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    # SHA-256 of the cookie set in the browser where the candidate pressed Start; that one only.
    browser_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return str(self.launch_id)


class QuizQuestion(models.Model):
    """A question drawn into a quiz, its choice order for this quiz, and the answer to it."""

    # `done` of an answer chosen but not yet confirmed. In an exam without going back an answer
    # is final once saved with any other `done` (the seed's in_progress or completed); a draft
    # may still change (services._apply), so choosing is not committing.
    DRAFT = "draft"

    # No index of its own: the unique (quiz, question) index serves every lookup by quiz, and a
    # quiz's items are inserted 50-odd at once, each paying for every index (issue 10).
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="items", db_index=False)
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    # Original choice numbers in display order, e.g. "3142": the candidate's "1" is choice 3.
    choice_order = models.CharField(max_length=4, default="1234")
    # The answer as the bank's original choice number (1..4), so grading ignores shuffling.
    answer = models.PositiveSmallIntegerField(null=True, blank=True)
    done = models.CharField(max_length=32, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The candidate's "flag for review". A database default too: the launch inserts items by
    # hand-written SQL that names only the columns it fills.
    flagged = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "question"], name="quiz_question_once"),
            models.UniqueConstraint(fields=["quiz", "position"], name="quiz_position_once"),
        ]

    @property
    def order(self) -> tuple[int, ...]:
        return tuple(int(c) for c in self.choice_order)

    @property
    def is_committed(self) -> bool:
        """Answered, and not as a draft: in an exam without going back, final."""
        return self.answer is not None and self.done != QuizQuestion.DRAFT

    @property
    def shown_answer(self) -> int | None:
        """The answer in the candidate's numbering (what they clicked)."""
        if self.answer is None:
            return None
        return exam_scoring.to_shown(self.order, self.answer)

    def shown_choices(self) -> list[tuple[int, str]]:
        """(number as shown, text) for c1..c4 in this quiz's order."""
        return [(i, self.question.choice(orig)) for i, orig in enumerate(self.order, start=1)]


class AnswerSave(models.Model):
    """Each save of an answer, as it happened (the item keeps only the latest)."""

    id = RowidAutoField(primary_key=True)  # written by every autosave, seen by no one outside
    item = models.ForeignKey(QuizQuestion, on_delete=models.CASCADE, related_name="saves")
    answer = models.PositiveSmallIntegerField(null=True, blank=True)
    done = models.CharField(max_length=32, blank=True)
    saved_at = models.DateTimeField()

    class Meta:
        ordering = ["saved_at", "pk"]


def pending_ids_sql(vendor: str, param: str) -> str:
    """A subquery of the question ids in a pending_items text passed as `param` (Quiz's
    format, read by the database)."""
    if vendor == "postgresql":
        return f"SELECT unnest(string_to_array({param}, ',')::bigint[])"
    return f"SELECT value FROM json_each('[' || {param} || ']')"


def draws(exam_id: int, question_ids: Iterable[int]) -> Counter[int]:
    """How many quizzes of the exam drew each of these questions, their items written or
    pending: a question no quiz drew may be changed in place or deleted, a drawn one is kept
    as the quizzes saw it (portal/exams/authoring.py). Two queries."""
    wanted = set(question_ids)
    counts = Counter(
        dict(
            QuizQuestion.objects.filter(question__in=wanted)
            .values_list("question")
            .annotate(n=models.Count("pk"))
            .order_by()
        )
    )
    pending = Quiz.objects.filter(exam_id=exam_id).exclude(pending_items="")
    for quiz in pending.only("pending_items").iterator(chunk_size=2000):
        counts.update(pk for pk in quiz.pending_question_ids if pk in wanted)
    return counts
