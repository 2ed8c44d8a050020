"""Reading an exam's results for staff: its attempts and their totals, each answer as the
candidate saw it, and the item analysis of its completed attempts (scoring/items.py).

Every function here costs a fixed number of queries whatever the number of attempts: totals
are one aggregate plus one two-row slice for the median, answers stream in chunks with their
quiz, student and question joined, and the item analysis reads one values list.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import Coalesce

from portal.exams import services
from portal.exams.models import Exam, Question, Quiz, QuizQuestion
from scoring import exams as exam_scoring
from scoring import items

HISTOGRAM_BINS = 10
CHUNK = 500


def attempts(exam: Exam) -> QuerySet[Quiz]:
    """The exam's quizzes with their student and the student's customer (one query a page),
    and `pass_mark`: the quiz's own pass mark, or the exam's for quizzes launched before it
    was recorded."""
    return (
        Quiz.objects.filter(exam=exam)
        .select_related("student__customer")
        .annotate(pass_mark=Coalesce("accept_score", "exam__accept_score"))
    )


# ---------------------------------------------------------------------------------------------
# Totals


@dataclass(frozen=True)
class HistogramBin:
    low: int
    high: int  # exclusive, except the last bin, which holds 100
    count: int


@dataclass(frozen=True)
class ResultsSummary:
    """Totals of a set of attempts; mean, median, pass rate and histogram are of the completed
    ones (a started quiz has no score yet)."""

    count: int
    completed: int
    passed: int
    mean: float | None
    median: float | None
    histogram: tuple[HistogramBin, ...]

    @property
    def pass_rate(self) -> float | None:
        """Percent of the completed attempts that passed; None when none is completed."""
        return 100 * self.passed / self.completed if self.completed else None


def _bins() -> list[tuple[int, int]]:
    width = 100 // HISTOGRAM_BINS
    return [(low, low + width) for low in range(0, 100, width)]


def results_summary(quizzes: QuerySet[Quiz]) -> ResultsSummary:
    """Count, mean, median, pass rate and a 10-bin histogram of percentages: two queries."""
    quizzes = quizzes.order_by()
    scored = Q(percentage__isnull=False)
    bins = _bins()
    last = len(bins) - 1
    counts = {
        f"bin{i}": Count(
            "pk",
            filter=scored
            & Q(percentage__gte=low)
            & (Q(percentage__lte=high) if i == last else Q(percentage__lt=high)),
        )
        for i, (low, high) in enumerate(bins)
    }
    totals = quizzes.aggregate(
        count=Count("pk"),
        completed=Count("pk", filter=scored),
        passed=Count("pk", filter=scored & Q(is_accept=True)),
        mean=Avg("percentage"),
        **counts,
    )
    return ResultsSummary(
        count=totals["count"],
        completed=totals["completed"],
        passed=totals["passed"],
        mean=totals["mean"],
        median=_median(quizzes.filter(scored), totals["completed"]),
        histogram=tuple(
            HistogramBin(low, high, totals[f"bin{i}"]) for i, (low, high) in enumerate(bins)
        ),
    )


def _median(scored: QuerySet[Quiz], n: int) -> float | None:
    """The middle percentage (the mean of the two middle ones for an even count): one query
    of at most two rows, found by the database's ordering."""
    if n == 0:
        return None
    low = (n - 1) // 2
    rows = scored.order_by("percentage", "pk").values_list("percentage", flat=True)
    middle = [p for p in rows[low : n // 2 + 1] if p is not None]  # scored: none is None
    return sum(middle) / len(middle)


# ---------------------------------------------------------------------------------------------
# Answers, one row each, as the candidate saw them


@dataclass(frozen=True)
class AnswerRow:
    """One answer of an attempt: choices numbered as the candidate saw them (shuffled)."""

    item: QuizQuestion

    @property
    def quiz(self) -> Quiz:
        return self.item.quiz

    @property
    def question(self) -> Question:
        return self.item.question

    @property
    def chosen(self) -> int | None:
        return self.item.shown_answer

    @property
    def chosen_text(self) -> str:
        return self.question.choice(self.item.answer) if self.item.answer else ""

    @property
    def correct(self) -> int:
        return exam_scoring.to_shown(self.item.order, self.question.correct)

    @property
    def correct_text(self) -> str:
        return self.question.choice(self.question.correct)

    @property
    def result(self) -> str:
        """ "right", "wrong" or "unanswered"."""
        if self.item.answer is None:
            return "unanswered"
        return "right" if self.item.answer == self.question.correct else "wrong"

    @property
    def points(self) -> float:
        return self.question.weight if self.result == "right" else 0.0


def answers(quizzes: QuerySet[Quiz], *, order_by: tuple[str, ...] = ()) -> Iterator[AnswerRow]:
    """Every answer of the given quizzes, in their order (`order_by`: the quizzes' ordering,
    e.g. ("-start_at",)) then by position shown; streamed in chunks, one query each. Items
    still pending are written first (the quizzes nobody has opened yet: unanswered)."""
    services.write_pending_items(quizzes)
    rows = (
        QuizQuestion.objects.filter(quiz__in=quizzes.order_by().values("pk"))
        .select_related("quiz__student", "question")
        .order_by(*[_on_quiz(field) for field in order_by], "quiz_id", "position")
    )
    return (AnswerRow(item) for item in rows.iterator(chunk_size=CHUNK))


def _on_quiz(field: str) -> str:
    return f"-quiz__{field[1:]}" if field.startswith("-") else f"quiz__{field}"


# ---------------------------------------------------------------------------------------------
# Item analysis


@dataclass(frozen=True)
class ChoiceRow:
    number: int | None  # the bank's choice number; None: unanswered
    text: str
    share: items.ChoiceShare

    @property
    def percent(self) -> float:
        return round(self.share.share * 100, 1)


@dataclass(frozen=True)
class QuestionRow:
    """A question version as drawn, with its statistics."""

    question: Question
    stats: items.QuestionAnalysis
    choices: tuple[ChoiceRow, ...]
    # Its number in the bank as the editor shows it (1, 2, 3 … among the live questions); an
    # earlier version has its successor's, a removed question none.
    number: int | None = None

    @property
    def facility_percent(self) -> float:
        return round(self.stats.facility * 100, 1)

    @property
    def retired(self) -> bool:
        return self.question.retired_at is not None


@dataclass(frozen=True)
class ItemReport:
    analysis: items.ExamAnalysis
    rows: tuple[QuestionRow, ...]  # in bank order, versions of a question side by side


def item_analysis(exam: Exam, quizzes: QuerySet[Quiz] | None = None) -> ItemReport:
    """Item statistics of the exam's completed attempts (or of the completed ones among
    `quizzes`), per question version as drawn: an edited question's versions are separate
    items, since their text or key differ. Three queries: the answers, the questions, the live
    bank's order (each row's number)."""
    completed = (quizzes if quizzes is not None else Quiz.objects.filter(exam=exam)).filter(
        exam=exam, state=Quiz.State.COMPLETED
    )
    values = QuizQuestion.objects.filter(quiz__in=completed.order_by().values("pk")).values_list(
        "quiz_id", "question_id", "answer", "question__correct", "question__weight"
    )
    analysis = items.analyse(
        items.Response(attempt=quiz, question=question, chosen=answer, correct=key, weight=weight)
        for quiz, question, answer, key, weight in values.iterator(chunk_size=5000)
    )
    drawn = {q.question for q in analysis.questions}
    questions = {q.pk: q for q in Question.objects.filter(exam=exam, pk__in=drawn)}
    rows = [
        QuestionRow(
            question=questions[stats.question],
            stats=stats,
            choices=tuple(
                ChoiceRow(
                    number=share.choice,
                    text=questions[stats.question].choice(share.choice)
                    if share.choice in exam_scoring.CHOICES
                    else "",
                    share=share,
                )
                for share in stats.choices
            ),
        )
        for stats in analysis.questions
        if stats.question in questions
    ]
    rows.sort(key=lambda row: (row.question.position, row.question.pk))
    live = list(Question.objects.filter(exam=exam).live().values_list("position", flat=True))
    numbers = {position: n for n, position in enumerate(sorted(live), start=1)}
    rows = [replace(row, number=numbers.get(row.question.position)) for row in rows]
    return ItemReport(analysis=analysis, rows=tuple(rows))
