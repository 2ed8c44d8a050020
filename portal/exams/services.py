"""The only code that changes exam state: launch, save an answer, submit, finish on deadline.

The API (api/exams.py) and the candidate's pages (portal/exams/views.py) both call these
functions, so both front doors behave identically. Errors are ExamError with a message in the
contract's language and a stable machine-readable code.
"""

import functools
import hashlib
import hmac
import itertools
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID, uuid4

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.customers.models import (
    LAST_USED_RESOLUTION,
    ClientToken,
    Customer,
    hash_token,
    token_sql_parts,
)
from portal.db import column_length, from_db_values, hot_cursor, hot_rows, pg_array
from portal.exams import history
from portal.exams.models import (
    AnswerSave,
    Exam,
    Launch,
    Question,
    Quiz,
    QuizQuestion,
    Student,
    pending_ids_sql,
)
from portal.hashing import sha256_hex as hash_browser_key
from portal.text import normalize_digits
from scoring import exams as exam_scoring

logger = logging.getLogger(__name__)

# The nine result parameters of the seed's callback contract, in the seed's order.
CALLBACK_PARAMS = (
    "student_uuid",
    "mobile",
    "eurl",
    "quiz_id",
    "percentage",
    "total_score",
    "is_accept",
    "state",
    "launch_id",
)


class ExamError(Exception):
    """A refusal the caller can act on; `status` is the HTTP status of the API response.

    A refusal about one question of the quiz gives its `question_id` and a lazy `message` with
    `%(id)s`: the API names the question by its id, the candidate's page by its number on the
    page (`numbered`)."""

    status = 400

    def __init__(
        self, message, *, code: str, status: int | None = None, question_id: int | None = None
    ) -> None:
        self.template = message if question_id is not None else None
        if question_id is not None:
            message = message % {"id": question_id}
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.question_id = question_id
        if status is not None:
            self.status = status

    def numbered(self, number: int | str) -> "ExamError":
        """This refusal naming its question by `number` (its place on the page, as the page
        writes it), in the active language."""
        if self.template is None:
            return self
        return ExamError(self.template % {"id": number}, code=self.code, status=self.status)


def _not_found_launch() -> ExamError:
    return ExamError(_("Launch not found."), code="launch_not_found", status=404)


@dataclass(frozen=True)
class ResponseIn:
    question_id: int
    answer: str | int | None
    done: str = ""


# ---------------------------------------------------------------------------------------------
# Launch


def check_callback_url(url: str, token: ClientToken) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed host or port raises ValueError here
    except ValueError:
        raise ExamError(
            _("callback_url must be an absolute http(s) URL."), code="invalid_callback_url"
        ) from None
    # Browsers read a backslash as "/" and drop tabs and newlines, so a URL holding them can
    # lead somewhere other than the host checked here ("https://evil\\@allowed/" goes to evil).
    # (Every whitespace character but the space is unprintable: str.isprintable checks the
    # rest at C speed, where a generator over the characters was 4 % of a launch.)
    unsafe = "\\" in url or " " in url or not url.isprintable()
    if unsafe or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ExamError(
            _("callback_url must be an absolute http(s) URL."), code="invalid_callback_url"
        )
    if not token.allows_callback(url):
        raise ExamError(
            _("callback_url host %(host)s is not allowed for this client token.")
            % {"host": parts.hostname},
            code="callback_host_not_allowed",
        )
    return url


def get_exam(*, customer: Customer, eurl: int) -> Exam:
    exam = Exam.objects.filter(customer=customer, pk=eurl).first()
    if exam is None:
        raise ExamError(_("Evaluation not found."), code="exam_not_found", status=404)
    return exam


def launch_quiz(
    *,
    token: ClientToken,
    student_uuid: str,
    mobile: str,
    eurl: int,
    callback_url: str,
    exam_read: tuple[Exam, list[int]] | None = None,
) -> tuple[Launch, bool]:
    """Create the student if missing and a quiz, or resume the started one.

    Returns the new launch and whether the quiz already existed. Parallel calls for the same
    student and exam end up on one quiz: the database allows one started quiz per pair.
    `exam_read` is the exam `eurl` with its bank as read with the token
    (authenticate_for_launch); without it, they are read here.
    """
    callback_url = check_callback_url(callback_url, token)
    # The customer's own id, kept as sent (only trimmed): rewriting it would break matching.
    student_uuid = student_uuid.strip()
    mobile = normalize_digits(mobile)
    for attempt in range(_DRAWS):
        if attempt == 0 and exam_read is not None:
            exam, bank = exam_read
        else:
            exam, bank = _exam_with_bank(token.customer, eurl)
        if not exam.is_active:
            raise ExamError(_("This exam is not active."), code="exam_inactive")
        if not student_uuid:
            raise ExamError(_("student_uuid is required."), code="invalid_request")
        launched = _launch(exam, bank, student_uuid, mobile, callback_url)
        if launched is not None:
            return launched
        # No quiz, none started: a question drawn was deleted from the bank meanwhile (the
        # quiz's insert checks them). Draw again from the bank as it is now.
    raise ExamError(
        _("The exam's questions changed during the launch; please try again."),
        code="exam_changed",
        status=409,
    )


def _launch(
    exam: Exam, bank: list[int], student_uuid: str, mobile: str, callback_url: str
) -> tuple[Launch, bool] | None:
    # Drawn before the transaction, which on SQLite holds the database's one write lock (and
    # unused when the started quiz is resumed: drawing costs less than asking first).
    seed = secrets.randbits(62)
    drawn = exam_scoring.draw_questions(seed, bank, exam.number_of_question)
    launch = Launch(
        launch_id=uuid4(), callback_url=callback_url, created_at=timezone.now(), browser_key_hash=""
    )
    with transaction.atomic():
        student, started = _upsert_student(exam.customer, student_uuid, mobile, exam.pk)
        quiz = _started_quiz(student, exam, started)
        existing = quiz is not None
        inserted = False
        if quiz is None:
            quiz, inserted = _create_quiz(student, exam, seed, drawn, launch)
        if quiz is None:
            # Another launch for this student and exam won the race: resume its quiz.
            quiz = Quiz.objects.filter(student=student, exam=exam, state=Quiz.State.STARTED).first()
            existing = True
        if quiz is None:
            return None
        launch.quiz = quiz
        if not inserted:
            hot_rows(_launch_sql("launch"), _launch_params(launch, quiz.pk))
    launch._state.adding = False
    quiz.student = student
    quiz.exam = exam
    return launch, existing


# How many times a launch draws when questions it drew are deleted under it (an author's edit).
_DRAWS = 3

# The launch's own SQL, written once per database: the ORM built each statement anew, which cost
# several times what the database took. PostgreSQL inserts the quiz and the launch in one
# statement and reads the student's started quiz with the student's upsert. The quiz keeps its
# drawn questions in one column until its items are written (Quiz.pending_items).
_LAUNCH_QUIZ_FIELDS = ("id", "shuffle_seed", "start_at", "deadline_at", "total_questions")
_LAUNCH_EXAM_FIELDS = (
    "id",
    "title",
    "type",
    "language",
    "accept_score",
    "number_of_question",
    "duration",
    "can_back",
    "is_active",
)


@functools.cache
def _launch_sql(name: str) -> str:
    tables = {
        model.__name__.lower(): model._meta.db_table
        for model in (Exam, Question, Student, Quiz, QuizQuestion, Launch)
    }
    started = (
        "SELECT {columns}"
        f" FROM {tables['quiz']}"
        " WHERE student_id = {student} AND exam_id = %(exam)s AND state = 'started' LIMIT 1"
    )
    student = (
        f"INSERT INTO {tables['student']}"
        " (customer_id, uuid, mobile, created_at, extra_minutes, time_factor)"
        " VALUES (%(customer)s, %(uuid)s, %(mobile)s, %(now)s, 0, %(one)s)"
        " ON CONFLICT (customer_id, uuid) DO UPDATE SET mobile = CASE"
        f" WHEN excluded.mobile = '' THEN {tables['student']}.mobile ELSE excluded.mobile END"
        " RETURNING id, mobile, extra_minutes, time_factor"
    )
    quiz = (
        f"INSERT INTO {tables['quiz']} (student_id, exam_id, state, shuffle_seed, start_at,"
        " deadline_at, finished_by, total_questions, accept_score, extra_minutes,"
        " accommodation_factor, accommodation_minutes, pending_items)"
        " SELECT %(student)s, %(exam)s, 'started', %(seed)s, %(now)s, %(deadline)s, '',"
        " %(total)s, %(accept)s, 0, %(factor)s, %(minutes)s, %(pending)s"
        # Only if every question drawn is still there: the bank was read before the
        # transaction, and an author may have deleted one (an undrawn question is deleted, a
        # drawn one kept: models.draws). On PostgreSQL the launch holds the exam's row
        # (student_and_started) so that an author's change waits for it or it for the author's.
        f" WHERE (SELECT count(*) FROM {tables['question']} WHERE id IN ({{drawn}})) = %(total)s"
        # No savepoint: a launch that loses the race inserts nothing, and resumes the winner's.
        " ON CONFLICT (student_id, exam_id) WHERE state = 'started' DO NOTHING RETURNING id"
    )
    launch = (
        f"INSERT INTO {tables['launch']}"
        " (launch_id, quiz_id, callback_url, created_at, browser_key_hash)"
        " {values} %(launch)s, {quiz}, %(callback)s, %(now)s, ''"
    )
    exam_columns = ", ".join(f"e.{name}" for name in _LAUNCH_EXAM_FIELDS)
    # The exam by its key first, whatever a fresh database's statistics say; then its live bank
    # (retired versions of edited or removed questions are never drawn), in bank order, as one
    # value (_bank_ids reads it), read from the question_bank index alone.
    exam = f"(SELECT * FROM {tables['exam']} WHERE id = %(exam)s{{customer}} LIMIT 1) e"
    live = (
        f"SELECT q.id FROM {tables['question']} q"
        " WHERE q.exam_id = e.id AND q.retired_at IS NULL ORDER BY q.position, q.id"
    )
    # PostgreSQL: an array. SQLite: the ids joined by commas (NULL for none), aggregated from
    # an ordered subquery, whose ORDER BY SQLite keeps under an aggregate like group_concat()
    # (before 3.44 an aggregate has no ORDER BY of its own; test_exam_query_counts pins the
    # order). An exam's bank as 50 joined rows, sorted, cost the launch 4 to 5 times as much
    # (docs/performance.md, fourteenth round). And student_and_started: the student's upsert
    # with its started quiz of the exam, if any (NULLs if none).
    if connection.vendor == "postgresql":
        bank = f"ARRAY({live})"
        # The started quiz as it was before this statement. One that a racing launch commits
        # meanwhile is found by the quiz insert's conflict, as on SQLite. The exam's row
        # share-locked (as its foreign key's check does, but now): an author's change, which
        # locks it for update, then waits for this launch to commit.
        started_quiz = started.format(columns=", ".join(_LAUNCH_QUIZ_FIELDS), student="s.id")
        student_and_started = (
            f"WITH s AS ({student}),"
            f" e AS (SELECT id FROM {tables['exam']} WHERE id = %(exam)s FOR KEY SHARE)"
            " SELECT s.id, s.mobile, s.extra_minutes, s.time_factor, q.*"
            f" FROM s CROSS JOIN e LEFT JOIN LATERAL ({started_quiz}) q ON true"
        )
    else:
        bank = f"(SELECT group_concat(id) FROM ({live}))"
        # No data-modifying CTEs: each of the started quiz's columns a subquery in the upsert's
        # RETURNING, found by the one_started_quiz index, in the launch's transaction.
        student_and_started = student + "".join(
            f", ({started.format(columns=column, student=tables['student'] + '.id')})"
            for column in _LAUNCH_QUIZ_FIELDS
        )
    token_columns, token_source, token_usable = token_sql_parts()
    return {
        "exam": f"SELECT {exam_columns}, {bank}"
        f" FROM {exam.format(customer=' AND customer_id = %(customer)s')}",
        # The client token with its customer (ClientToken.from_row) and the exam with its
        # bank, in one row: the launch's first statement.
        "token_and_exam": f"SELECT {token_columns}, {exam_columns}, {bank}"
        f" FROM {token_source} LEFT JOIN {exam.format(customer='')} ON e.customer_id = c.id"
        f" WHERE {token_usable}",
        "student_and_started": student_and_started,
        "quiz": quiz.format(drawn=pending_ids_sql("sqlite", "%(pending)s")),
        "quiz_and_launch": "WITH quiz AS ("
        + quiz.format(drawn=pending_ids_sql("postgresql", "%(pending)s"))
        + f"), launch AS ({launch.format(values='SELECT', quiz='quiz.id')} FROM quiz)"
        " SELECT id FROM quiz",
        "launch": launch.format(values="VALUES (", quiz="%(quiz)s") + ")",
    }[name]


def _launch_params(launch: Launch, quiz_id: int | None) -> dict:
    return {
        "launch": Launch._meta.pk.get_db_prep_value(launch.launch_id, connection),
        "quiz": quiz_id,
        "callback": launch.callback_url,
        "now": connection.ops.adapt_datetimefield_value(launch.created_at),
    }


def _exam_with_bank(customer: Customer, eurl: int) -> tuple[Exam, list[int]]:
    """The customer's exam (as get_exam) and its live bank's question ids, in order."""
    rows = []
    if _is_key(eurl):
        rows = hot_rows(_launch_sql("exam"), {"exam": eurl, "customer": customer.pk})
    if not rows:
        raise ExamError(_("Evaluation not found."), code="exam_not_found", status=404)
    return _launch_exam(customer, rows[0][:-1]), _bank_ids(rows[0][-1])


def _bank_ids(value: list[int] | str | None) -> list[int]:
    """The bank's question ids as _launch_sql reads them in one value (an array on
    PostgreSQL, the ids joined by commas on SQLite, None for an empty bank there)."""
    if isinstance(value, str):
        return [int(number) for number in value.split(",")]
    return list(value or ())


def _is_key(eurl: int) -> bool:
    """Whether an exam could have this key (a bigint): another number names no exam, and
    would not fit the statement's parameter."""
    return -(2**63) <= eurl < 2**63


def _launch_exam(customer: Customer, row: Sequence[Any]) -> Exam:
    """The exam from its _LAUNCH_EXAM_FIELDS as read by the launch's SQL; its other fields
    (the two dates) are read if asked for."""
    values = from_db_values(Exam, _LAUNCH_EXAM_FIELDS, row)
    exam = Exam.from_db(
        connection.alias,
        ("customer_id", *_LAUNCH_EXAM_FIELDS),
        [values[0], customer.pk, *values[1:]],
    )
    exam.customer = customer
    return exam


def authenticate_for_launch(
    canonical_token: str, eurl: int
) -> tuple[ClientToken, tuple[Exam, list[int]] | None] | None:
    """ClientToken.authenticate() of a launch's token (canonical, parse_client_token) and the
    customer's exam `eurl` with its live bank, read in the same statement, for launch_quiz's
    `exam_read` (a launch's first two statements as one). None when the token is not usable;
    the exam part is None when the customer has no such exam: launch_quiz says so then."""
    if not _is_key(eurl):
        token = ClientToken.authenticate(canonical_token)
        return None if token is None else (token, None)
    params: dict[str, str | int] = {"token": hash_token(canonical_token), "exam": eurl}
    rows = hot_rows(_launch_sql("token_and_exam"), params)
    if not rows:
        return None
    row = rows[0]
    token = ClientToken.from_row(row)
    token.touch()
    exam_row = row[ClientToken.row_length() : -1]
    if exam_row[0] is None:
        return token, None
    return token, (_launch_exam(token.customer, exam_row), _bank_ids(row[-1]))


def _upsert_student(
    customer: Customer, uuid: str, mobile: str, exam_id: int
) -> tuple[Student, list | None]:
    """The customer's student with this id, created if missing, and the row of its started
    quiz of the exam, if any. A mobile sent replaces the stored one (an empty one keeps it).
    One statement for both, also when launches race."""
    params = {
        "customer": customer.pk,
        "uuid": uuid,
        "mobile": mobile,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "one": _ONE_FACTOR,
        "exam": exam_id,
    }
    rows = hot_rows(_launch_sql("student_and_started"), params)
    if not rows:  # PostgreSQL: the exam, read a moment ago, is gone
        raise ExamError(_("Evaluation not found."), code="exam_not_found", status=404)
    row = rows[0]
    pk, stored_mobile, extra_minutes, time_factor = row[:4]
    started_row = row[4:] if row[4] is not None else None
    started = None
    if started_row is not None:
        started = from_db_values(Quiz, _LAUNCH_QUIZ_FIELDS, started_row)
    student = Student(
        pk=pk,
        customer=customer,
        uuid=uuid,
        mobile=stored_mobile,
        extra_minutes=extra_minutes,
        time_factor=from_db_values(Student, ("time_factor",), [time_factor])[0],
    )
    student._state.adding = False
    return student, started


# Every new student's time_factor (the model's default), as the database stores a Decimal.
_ONE_FACTOR = Decimal(1)


def _started_quiz(student: Student, exam: Exam, started: list | None) -> Quiz | None:
    """The student's started quiz of the exam, from its row; finished instead of resumed when
    its deadline has passed."""
    if started is None:
        return None
    quiz = Quiz.from_db(
        connection.alias,
        ("student_id", "exam_id", "state", *_LAUNCH_QUIZ_FIELDS),
        [started[0], student.pk, exam.pk, Quiz.State.STARTED, *started[1:]],
    )
    if quiz.deadline_at <= timezone.now():
        if finish_quiz(quiz.pk, finished_by=Quiz.FinishedBy.DEADLINE) is not None:
            return None
        # Staff moved the deadline (or another request finished it) since it was read.
        quiz.refresh_from_db()
        return None if quiz.is_finished else quiz
    return quiz


def accommodation_minutes(student: Student, exam: Exam) -> Decimal:
    """Minutes a new quiz of this student gets beyond the exam's duration (accommodation):
    duration × (time_factor − 1) + extra_minutes."""
    factor = Decimal(student.time_factor)
    return Decimal(exam.duration) * (factor - 1) + student.extra_minutes


def plain_minutes(minutes: Decimal) -> int | float:
    """7.50 → 7.5, 10.00 → 10: minutes as a reader writes them."""
    return int(minutes) if minutes == minutes.to_integral_value() else float(minutes)


def later(moment: datetime, minutes: Decimal | int) -> datetime:
    """`moment` plus `minutes`: a deadline. ExamError (400) where the sum is past what a
    datetime holds (the year 9999), never an OverflowError (a 500). The format's bounds
    (schema.DURATION_MAX, the accommodation's) keep every launch and extension far from it; an
    exam stored before them, or a quiz extended a million times, may not be."""
    try:
        return moment + timedelta(seconds=int(minutes * 60))
    except OverflowError:
        raise ExamError(
            _("The deadline would fall after the year 9999: that is more time than can be given."),
            code="deadline_out_of_range",
        ) from None


def deadline_for(start_at: datetime, exam: Exam, student: Student) -> datetime:
    """The deadline of a new quiz: the exam's duration, stretched by the student's
    accommodation (duration × time_factor + extra_minutes)."""
    return later(start_at, Decimal(exam.duration) + accommodation_minutes(student, exam))


def _create_quiz(
    student: Student, exam: Exam, seed: int, drawn: list[int], launch: Launch
) -> tuple[Quiz | None, bool]:
    """A new started quiz that drew these questions (its items pending), or None when another
    launch has just started one for this student and exam (the database keeps one started quiz
    per pair) or a question drawn is gone; and whether the launch was inserted with it
    (PostgreSQL: one statement for both)."""
    if not drawn:
        raise ExamError(_("This exam has no questions yet."), code="exam_empty")
    now = launch.created_at
    quiz = Quiz(
        student=student,
        exam=exam,
        shuffle_seed=seed,
        start_at=now,
        deadline_at=deadline_for(now, exam, student),
        total_questions=len(drawn),
        # The pass mark as it is now: a later edit of the exam never changes this verdict.
        accept_score=exam.accept_score,
        accommodation_factor=student.time_factor,
        accommodation_minutes=student.extra_minutes,
        pending_items=Quiz.pending_text(drawn),
    )
    params: dict[str, object] = {
        "student": student.pk,
        "exam": exam.pk,
        "seed": seed,
        "now": connection.ops.adapt_datetimefield_value(now),
        "deadline": connection.ops.adapt_datetimefield_value(quiz.deadline_at),
        "total": len(drawn),
        "accept": exam.accept_score,
        "factor": student.time_factor,
        "minutes": student.extra_minutes,
        "pending": quiz.pending_items,
    }
    both = connection.vendor == "postgresql"
    if both:
        params |= _launch_params(launch, None)
    rows = hot_rows(_launch_sql("quiz_and_launch" if both else "quiz"), params)
    if not rows:
        return None, False
    quiz.pk = rows[0][0]
    quiz._state.adding = False
    return quiz, both


# ---------------------------------------------------------------------------------------------
# Reading a launch


def get_launch(*, launch_id, customer: Customer | None = None) -> Launch:
    """The launch with its quiz, student and exam; a quiz past its deadline is finished first.

    With a customer, launches of other customers are not found (tenant isolation).
    """
    qs = Launch.objects.select_related("quiz__student__customer", "quiz__exam")
    if customer is not None:
        qs = qs.filter(quiz__student__customer=customer)
    launch = qs.filter(pk=launch_id).first()
    if launch is None:
        raise _not_found_launch()
    if not launch.quiz.is_finished and launch.quiz.deadline_at <= timezone.now():
        finish_quiz(launch.quiz_id, finished_by=Quiz.FinishedBy.DEADLINE)
        launch.quiz.refresh_from_db()
    return launch


class _Row:
    """A row read as values, standing in for a model instance: `id` is its `pk`."""

    __slots__ = ()
    pk: int  # a slot of each subclass (annotations only: they add nothing at run time)

    @property
    def id(self) -> int:
        return self.pk


class DrawnQuestion(_Row):
    """The fields of a drawn question that a quiz's pages, results and grading read."""

    __slots__ = (
        "pk",
        "description",
        "type",
        "c1",
        "c2",
        "c3",
        "c4",
        "weight",
        "can_shuffle",
        "correct",
    )
    description: str
    type: bool
    c1: str
    c2: str
    c3: str
    c4: str
    weight: float
    can_shuffle: bool
    correct: int

    choice = Question.choice


class QuizItem(_Row):
    """A quiz's item with its question, read as values: loading hundreds of model instances
    was most of a 200-question page, result or grading. Reads like a QuizQuestion (whose
    `order`, `shown_answer` and `shown_choices` it uses); answers are written by SQL."""

    __slots__ = (
        "pk",
        "quiz_id",
        "question_id",
        "position",
        "choice_order",
        "answer",
        "done",
        "answered_at",
        "question",
        "order",  # choice_order as numbers, read once (the result reads it five times)
    )
    quiz_id: int
    question_id: int
    position: int
    choice_order: str
    answer: int | None
    done: str
    answered_at: datetime | None
    question: DrawnQuestion
    order: tuple[int, ...]

    if TYPE_CHECKING:
        # QuizQuestion's own code (bound below), as it reads on a QuizItem's values.
        shown_answer: int | None
        is_committed: bool

        def shown_choices(self) -> list[tuple[int, str]]: ...
    else:
        shown_answer = QuizQuestion.shown_answer
        shown_choices = QuizQuestion.shown_choices
        is_committed = QuizQuestion.is_committed


# What quiz_items reads, in the order it unpacks each row: the item's columns (its slots up
# to `question`), then its question's but the key.
_ITEM_FIELDS = QuizItem.__slots__[: QuizItem.__slots__.index("question")]
_QUESTION_FIELDS = DrawnQuestion.__slots__[1:]


def quiz_items(quiz: Quiz) -> list[QuizItem]:
    """The quiz's items in order, each with its question: one query. Items still pending
    (Quiz.pending_items) are read from their questions, unanswered, as they will be written:
    a second query."""
    rows: Iterable[tuple] = QuizQuestion.objects.filter(quiz_id=quiz.pk).values_list(
        *_ITEM_FIELDS, *(f"question__{name}" for name in _QUESTION_FIELDS)
    )
    # The rows first: the quiz may have been read before its first save wrote them.
    if not rows and quiz.pending_items:
        rows = _pending_rows(quiz)
    items: list[QuizItem] = []
    append = items.append
    # Fields assigned by unpacking, not a setattr each: at 200 questions the ~4,000 setattr
    # calls were the largest part of reading them.
    for row in rows:
        item = QuizItem()
        question = item.question = DrawnQuestion()
        (
            item.pk,
            item.quiz_id,
            item.question_id,
            item.position,
            item.choice_order,
            item.answer,
            item.done,
            item.answered_at,
            question.description,
            question.type,
            question.c1,
            question.c2,
            question.c3,
            question.c4,
            question.weight,
            question.can_shuffle,
            question.correct,
        ) = row
        question.pk = item.question_id
        item.order = _ORDERS.get(item.choice_order) or _order(item.choice_order)
        append(item)
    return items


def _pending_rows(quiz: Quiz) -> list[tuple]:
    """Rows as quiz_items reads them for the items a quiz will write, from its questions."""
    return [
        (None, quiz.pk, pk, position, order, None, "", None, *question)
        for position, (pk, order, *question) in enumerate(
            quiz.pending_questions(_QUESTION_FIELDS), start=1
        )
    ]


def write_pending_items(quizzes: QuerySet[Quiz]) -> int:
    """Write the items of these quizzes that are still pending (Quiz.pending_items), each
    quiz once however many ask at the same time; return how many quizzes were written. The
    console calls it before reading items across quizzes (reviews, exports). A transaction per
    PENDING_BATCH quizzes: on SQLite each holds the one write lock, and candidates' saves wait
    for it."""
    ids = quizzes.order_by().exclude(pending_items="").values_list("pk", flat=True)
    written = 0
    for batch in itertools.batched(list(ids), PENDING_BATCH):
        with transaction.atomic():
            pending = list(
                Quiz.objects.select_for_update()
                .filter(pk__in=batch)
                .exclude(pending_items="")
                .only("pk", "shuffle_seed", "pending_items")
            )
            _insert_items(pending)
        written += len(pending)
    return written


# Quizzes whose items write_pending_items writes in one transaction (~25,000 items at 50).
PENDING_BATCH = 500


def _write_pending(quiz: Quiz) -> None:
    """Write the items of a quiz the caller has locked, if they are pending."""
    if quiz.pending_items:
        _insert_items([quiz])


def _insert_items(quizzes: list[Quiz]) -> None:
    """Insert the pending items of these locked quizzes, unanswered, in drawn order, and mark
    them written."""
    if not quizzes:
        return
    _insert_rows(
        [
            (quiz.pk, pk, position, order, None, "", None)
            for quiz in quizzes
            for position, (pk, order) in enumerate(quiz.pending_questions(()), start=1)
        ]
    )
    _mark_written(quizzes)


def _mark_written(quizzes: list[Quiz]) -> None:
    Quiz.objects.filter(pk__in=[quiz.pk for quiz in quizzes]).update(pending_items="")
    for quiz in quizzes:
        quiz.pending_items = ""


def _insert_answered(quiz: Quiz, items: Iterable[QuizItem], now: datetime) -> None:
    """Insert a locked quiz's pending items (read by quiz_items) as its first saves left them,
    each answer saved with its history row, and give them their keys: a submit of every
    answer at once writes each item once, not an unanswered row and then its answer. Every
    answer was saved `now` (_save_locked's moment)."""
    at = connection.ops.adapt_datetimefield_value(now)
    items = list(items)
    keys = _insert_rows(
        [
            (
                quiz.pk,
                i.question_id,
                i.position,
                i.choice_order,
                i.answer,
                i.done,
                None if i.answered_at is None else at,
            )
            for i in items
        ]
    )
    for item in items:
        item.pk = keys[item.question_id]
    with hot_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AnswerSave._meta.db_table} (item_id, answer, done, saved_at)"
            f" SELECT id, answer, done, answered_at FROM {QuizQuestion._meta.db_table}"
            " WHERE quiz_id = %s AND answered_at IS NOT NULL",
            [quiz.pk],
        )
    _mark_written([quiz])


def _insert_rows(rows: list[tuple]) -> dict[int, int]:
    """Insert items (quiz, question, position, choice order, answer, done, answered at): one
    statement for hundreds, without a model instance each. Returns their keys by question
    (of one quiz's rows)."""
    table = QuizQuestion._meta.db_table
    columns = "quiz_id, question_id, position, choice_order, answer, done, answered_at"
    keys: dict[int, int] = {}
    with hot_cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest(%s::bigint[],"
                " %s::bigint[], %s::int[], %s::varchar[], %s::smallint[], %s::varchar[],"
                " %s::timestamptz[]) RETURNING question_id, id",
                [pg_array(column) for column in zip(*rows, strict=True)],
            )
            keys.update(cursor.fetchall())
            return keys
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING question_id, id",
                [value for row in chunk for value in row],
            )
            keys.update(cursor.fetchall())
    return keys


# SQLite: rows per INSERT, within its 32,766 parameters at 7 each.
_ROWS_PER_INSERT = 1000


def _order(choice_order: str) -> tuple[int, ...]:
    return tuple(int(c) for c in choice_order)


# The 24 choice orders there are, as numbers, read once.
_ORDERS = {
    "".join(map(str, order)): order for order in itertools.permutations(exam_scoring.CHOICES)
}


# ---------------------------------------------------------------------------------------------
# Answering


def parse_answer(value: str | int | None, *, question_id: int) -> int | None:
    """The candidate's choice as shown (1..4); None or "" clears nothing and means unanswered."""
    if value is None:
        return None
    text = normalize_digits(str(value))
    if text == "":
        return None
    if text not in {"1", "2", "3", "4"}:
        raise ExamError(
            _("Answer to question %(id)s must be 1, 2, 3 or 4."),
            code="invalid_answer",
            question_id=question_id,
        )
    return int(text)


def _lock_open_quiz(quiz_id: int, *related: str, write_pending: bool = True) -> Quiz:
    """Lock the quiz row for this transaction and make sure it still takes answers; write its
    pending items (unless the caller writes them with its answers, _save_locked)."""
    quiz = (
        Quiz.objects.select_for_update(of=("self",))
        .select_related("exam", *related)
        .get(pk=quiz_id)
    )
    if quiz.is_finished and quiz.finished_by != Quiz.FinishedBy.DEADLINE:
        raise ExamError(_("This exam has already been finished."), code="quiz_finished")
    if quiz.is_finished or quiz.deadline_at <= timezone.now():
        raise ExamError(_("Time is up: answers are no longer accepted."), code="time_up")
    if write_pending:
        _write_pending(quiz)
    return quiz


def _finish_if_overdue(quiz_id: int, error: ExamError) -> None:
    if error.code == "time_up":
        finish_quiz(quiz_id, finished_by=Quiz.FinishedBy.DEADLINE)


# A save's `done` as kept: the column's length (the API refuses a longer one, the page's own
# saves are cut to it).
DONE_LENGTH = column_length(QuizQuestion, "done")


def _apply(
    item: QuizQuestion | QuizItem, shown: int, done: str, *, can_back: bool, now: datetime
) -> bool:
    """Set the answer on the item; return whether anything changed.

    Without going back, an answer saved with any `done` but QuizQuestion.DRAFT is final (the
    seed's in_progress and completed alike, as before drafts); a draft may change until it is
    saved with another `done` (the page's "Confirm and next"), and never reopens a final one.
    """
    original = exam_scoring.to_original(item.order, shown)
    final = not can_back and item.is_committed
    if final and done == QuizQuestion.DRAFT:
        done = ""  # the same answer again changes nothing; another one is refused below
    if item.answer == original and (not done or item.done == done):
        return False
    if final and item.answer != original:
        raise ExamError(
            _("Question %(id)s has been answered and this exam does not allow changing it."),
            code="answer_locked",
            question_id=item.question_id,
        )
    item.answer = original
    item.done = done[:DONE_LENGTH] or item.done or "in_progress"
    item.answered_at = now
    return True


def save_answer(
    *, launch: Launch, question_id: int, answer: str | int | None, done: str = ""
) -> QuizQuestion:
    """Save one answer (the seed's /answer/ endpoint and the page's autosave)."""
    shown = parse_answer(answer, question_id=question_id)
    try:
        with transaction.atomic():
            quiz = _lock_open_quiz(launch.quiz_id)
            item = QuizQuestion.objects.filter(quiz=quiz, question_id=question_id).first()
            if item is None:
                raise ExamError(
                    _("Question %(id)s is not part of this exam.") % {"id": question_id},
                    code="unknown_question",
                )
            if shown is not None and _apply(
                item, shown, done, can_back=quiz.exam.can_back, now=timezone.now()
            ):
                QuizQuestion.objects.filter(pk=item.pk).update(
                    answer=item.answer, done=item.done, answered_at=item.answered_at
                )
                if not history.by_trigger(connection):
                    AnswerSave.objects.create(**_save_record(item))
    except ExamError as error:
        _finish_if_overdue(launch.quiz_id, error)
        raise
    return item


# The autosave's fast path: one statement on PostgreSQL, one short transaction on SQLite. It
# saves only when everything is in order and otherwise changes nothing, so that save_answer (the
# full path) can give the exact refusal, finish an overdue quiz or touch the token.
#
# The conditions are those of the full path: the caller holds the launch ({holder}, below); the
# quiz is started and before its deadline; the question is in the quiz; and the exam allows
# going back, or the question is unanswered, or the answer stays the same. The choice as shown
# maps to the bank's through the item's choice_order ("3142": shown 1 is choice 3).

_FAST_TARGET = """
    SELECT qq.id, qq.answer, qq.done, e.can_back,
           CAST(NULLIF(SUBSTR(qq.choice_order, %(shown)s, 1), '') AS integer) AS chosen
    FROM (
        SELECT quiz_id, browser_key_hash FROM {launch} WHERE launch_id = %(launch_id)s
        LIMIT 1
    ) l
    JOIN {quiz} q ON q.id = l.quiz_id
    JOIN {student} s ON s.id = q.student_id
    JOIN {exam} e ON e.id = q.exam_id
    JOIN {item} qq ON qq.quiz_id = q.id AND qq.question_id = %(question)s
    WHERE q.state = 'started' AND q.deadline_at > %(now)s
      AND {holder}
"""
# The launch is looked up first, by its key, whatever the tables' statistics say (the LIMIT
# keeps the planner from starting elsewhere: on a fresh database PostgreSQL otherwise scanned
# every started quiz).
# Who may save: the API's client (a usable token, ClientToken.objects.usable(), used recently
# enough that no touch() is due, of the launch's customer), or the candidate's page (the browser
# whose key claimed the launch, services.holds_launch; an unclaimed launch's "" never matches).
_FAST_HOLDERS = {
    "token": """s.customer_id IN (
          SELECT t.customer_id FROM {token} t JOIN {customer} c ON c.id = t.customer_id
          WHERE t.token_hash = %(token)s AND t.revoked_at IS NULL AND c.is_active
            AND t.last_used_at >= %(fresh)s)""",
    "browser": "l.browser_key_hash = %(browser)s",
}
# What the save writes, and when: the value changes (a save that changes nothing is not a save
# and leaves no history), and going back is allowed or nothing is overwritten.
_FAST_SET = """
    answer = target.chosen,
    done = COALESCE(NULLIF(%(done)s, ''), NULLIF(qq.done, ''), 'in_progress'),
    answered_at = %(now)s
"""
# Without going back, a draft ('draft', QuizQuestion.DRAFT) may change and a final answer may
# not; a draft save never reopens a final answer (services._apply).
_FAST_WHERE = """
    qq.id = target.id AND target.chosen IS NOT NULL
    AND (qq.answer IS NULL OR qq.answer <> target.chosen
         OR (%(done)s <> '' AND qq.done <> %(done)s))
    AND (target.can_back OR qq.answer IS NULL OR qq.done = 'draft'
         OR (qq.answer = target.chosen AND %(done)s <> 'draft'))
"""

# The same choice (and `done`) again: nothing to write, and the answer is saved (a draft of a
# final answer included).
_FAST_UNCHANGED = (
    "chosen IS NOT NULL AND answer = chosen AND (%(done)s = '' OR done = %(done)s"
    " OR (%(done)s = 'draft' AND NOT can_back))"
)

# PostgreSQL: the target's quiz row is share-locked, so a save racing a submit (which locks it
# FOR UPDATE) either lands before the grading or, waiting, sees the quiz completed and saves
# nothing. The history row is written by the same statement. A same-value save counts as done.
#
# The quiz is read (and locked) by its key alone, in a subquery planned apart (OFFSET 0): the
# prepared statement keeps one plan, and one made while the tables were small (a fresh
# database, the first launches) otherwise scanned the index of every started quiz for it —
# 10 ms a save once a launch storm had made thousands.
_FAST_QUIZ_POSTGRESQL = """(
        SELECT id, student_id, exam_id, state, deadline_at FROM {quiz}
        WHERE id = (SELECT quiz_id FROM {launch} WHERE launch_id = %(launch_id)s)
        OFFSET 0 FOR SHARE
    ) q"""
_FAST_SAVE_POSTGRESQL = f"""
WITH target AS ({_FAST_TARGET.replace("{quiz} q", _FAST_QUIZ_POSTGRESQL)}),
saved AS (
    UPDATE {{item}} qq SET {_FAST_SET}
    FROM target WHERE {_FAST_WHERE}
    RETURNING qq.id, qq.answer, qq.done, qq.answered_at
),
history AS (
    INSERT INTO {{answer_save}} (item_id, answer, done, saved_at)
    SELECT id, answer, done, answered_at FROM saved
)
SELECT (SELECT count(*) FROM saved) + (SELECT count(*) FROM target WHERE {_FAST_UNCHANGED})
"""
# SQLite has no data-modifying CTEs: its trigger writes the history row (portal.exams.history),
# so the save is one statement in autocommit, one commit, and the database's one write lock is
# never held across Python (a transaction around a save and a separate history INSERT, with one
# worker preempted while holding it, stalled every other: 0.52 of the floor under load).
_FAST_SAVE_SQLITE = f"""
UPDATE {{item}} AS qq SET {_FAST_SET}
FROM ({_FAST_TARGET}) AS target WHERE {_FAST_WHERE}
RETURNING id
"""
_FAST_UNCHANGED_SQLITE = f"SELECT 1 FROM ({_FAST_TARGET}) AS target WHERE {_FAST_UNCHANGED}"


def _tables(sql: str, holder: str) -> str:
    return sql.replace("{holder}", _FAST_HOLDERS[holder]).format(
        launch=Launch._meta.db_table,
        quiz=Quiz._meta.db_table,
        student=Student._meta.db_table,
        exam=Exam._meta.db_table,
        item=QuizQuestion._meta.db_table,
        answer_save=AnswerSave._meta.db_table,
        token=ClientToken._meta.db_table,
        customer=Customer._meta.db_table,
    )


_FAST_SQL: dict[tuple[str, str], tuple[str, ...]] = {}


def _fast_sql(vendor: str, holder: str) -> tuple[str, ...]:
    if not _FAST_SQL:
        for name in _FAST_HOLDERS:
            _FAST_SQL["postgresql", name] = (_tables(_FAST_SAVE_POSTGRESQL, name),)
            _FAST_SQL["sqlite", name] = (
                _tables(_FAST_SAVE_SQLITE, name),
                _tables(_FAST_UNCHANGED_SQLITE, name),
            )
    return _FAST_SQL.get((vendor, holder), ())


def save_answer_fast(
    *,
    launch_id: UUID,
    question_id: int,
    answer: str | int | None,
    done: str,
    token_hash: str = "",
    browser_key_hash: str = "",
) -> bool:
    """Save one answer of the exam contract in one statement when everything is in order.

    The caller is the API's client, by `token_hash` (the SHA-256 of the client token sent, not
    yet checked), or the candidate's page, by `browser_key_hash` (hash_browser_key of the
    browser's cookie, not yet checked). Returns whether the answer is saved (or was already);
    False means nothing was written and the caller must take the full path: authenticate or
    check the browser, get_launch, save_answer.
    """
    holder = "token" if token_hash else "browser" if browser_key_hash else ""
    if not holder:
        return False
    try:
        shown = parse_answer(answer, question_id=question_id)
    except ExamError:
        return False  # the full path refuses it, after finishing an overdue quiz
    db = connections[DEFAULT_DB_ALIAS]  # looked up once: each use of `connection` looks again
    statements = _fast_sql(db.vendor, holder)
    if shown is None or not statements:
        return False
    now = timezone.now()
    adapt = db.ops.adapt_datetimefield_value
    params = {
        "shown": shown,
        "question": question_id,
        "launch_id": Launch._meta.pk.get_db_prep_value(launch_id, db),
        "now": adapt(now),
        "fresh": adapt(now - LAST_USED_RESOLUTION),
        "token": token_hash,
        "browser": browser_key_hash,
        "done": done[:DONE_LENGTH],
    }
    if len(statements) == 1:
        return bool(hot_rows(statements[0], params)[0][0])
    # hot_rows reads all the rows: the statement (and its write lock) ends with them.
    save, unchanged = statements
    return bool(hot_rows(save, params) or hot_rows(unchanged, params))


def _parse_responses(responses: Iterable[ResponseIn]) -> list[tuple[ResponseIn, int | None]]:
    return [(r, parse_answer(r.answer, question_id=r.question_id)) for r in responses]


def _save_locked(
    quiz: Quiz,
    parsed: list[tuple[ResponseIn, int | None]],
    items: dict[int, QuizQuestion] | dict[int, QuizItem],
) -> int:
    """Apply parsed responses to the items of a quiz locked by the caller; return how many
    changed. Raises before writing anything when one of them is refused. Items still pending
    (quiz_items' of a quiz locked without writing them) are written with their answers."""
    unknown = sorted({r.question_id for r, _ in parsed} - items.keys())
    if unknown:
        raise ExamError(
            _("Questions not part of this exam: %(ids)s.")
            % {"ids": ", ".join(str(i) for i in unknown)},
            code="unknown_question",
        )
    now = timezone.now()
    changed = {
        r.question_id: items[r.question_id]
        for r, shown in parsed
        if shown is not None
        and _apply(items[r.question_id], shown, r.done, can_back=quiz.exam.can_back, now=now)
    }
    if quiz.pending_items:
        _insert_answered(quiz, items.values(), now)  # type: ignore[arg-type]
    elif changed:
        _write_answers(list(changed.values()), now)
    return len(changed)


def _write_answers(items: list[QuizQuestion | QuizItem], now: datetime) -> None:
    """Store the answer of each changed item (all answered `now`) and its history row, whatever
    their number, in one statement (on SQLite the trigger writes the history rows). bulk_update's
    CASE per row and field grew with them (78 % of a submit); so did a VALUES list, parsed and
    planned anew at each size."""
    at = connection.ops.adapt_datetimefield_value(now)
    if connection.vendor == "postgresql":
        with hot_cursor() as cursor:
            cursor.execute(
                _WRITE_ANSWERS_POSTGRESQL,
                {
                    "ids": pg_array(item.pk for item in items),
                    "answers": pg_array(item.answer for item in items),
                    "dones": pg_array(item.done for item in items),
                    "at": at,
                },
            )
        return
    # SQLite: the history rows are the trigger's (portal.exams.history).
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {QuizQuestion._meta.db_table}"
            " SET answer = %s, done = %s, answered_at = %s WHERE id = %s",
            [(item.answer, item.done, at, item.pk) for item in items],
        )


# One statement of one shape at any number of answers (prepared once per connection); the items
# looked up by key, whatever a fresh database's statistics say.
_WRITE_ANSWERS_POSTGRESQL = f"""
    WITH v AS (
        SELECT * FROM unnest(%(ids)s::bigint[], %(answers)s::smallint[], %(dones)s::varchar[])
        AS v(id, answer, done)
    ), saved AS (
        UPDATE {QuizQuestion._meta.db_table} AS qq
        SET answer = v.answer, done = v.done, answered_at = %(at)s
        FROM v WHERE qq.id = v.id AND qq.id = ANY(%(ids)s::bigint[])
    )
    INSERT INTO {AnswerSave._meta.db_table} (item_id, answer, done, saved_at)
    SELECT id, answer, done, %(at)s FROM v
"""


def _save_record(item: QuizQuestion) -> dict:
    """An AnswerSave row's fields for a save that just changed `item` (a save that changes
    nothing, e.g. the same choice sent again, is not a save and leaves no row)."""
    return {
        "item_id": item.pk,
        "answer": item.answer,
        "done": item.done,
        "saved_at": item.answered_at,
    }


def save_answers(*, launch: Launch, responses: Iterable[ResponseIn]) -> int:
    """Save many answers at once, all or nothing; return how many changed."""
    parsed = _parse_responses(responses)
    try:
        with transaction.atomic():
            quiz = _lock_open_quiz(launch.quiz_id, write_pending=False)
            items = {item.question_id: item for item in quiz_items(quiz)}
            return _save_locked(quiz, parsed, items)
    except ExamError as error:
        _finish_if_overdue(launch.quiz_id, error)
        raise


# ---------------------------------------------------------------------------------------------
# Finishing


def submit_quiz(*, launch: Launch, responses: Iterable[ResponseIn] = ()) -> Quiz:
    """Save the final responses and finish the quiz, once: a second submit is refused.

    Saving and grading happen in one transaction under the quiz's lock, so the result is
    graded on exactly these responses: a parallel submit or answer waits, then is refused.
    """
    return submit_quiz_items(launch=launch, responses=responses)[0]


def submit_quiz_items(
    *, launch: Launch, responses: Iterable[ResponseIn] = ()
) -> tuple[Quiz, list[QuizItem], exam_scoring.ExamResult]:
    """submit_quiz, also returning the quiz's items (with their questions) and their grading,
    so that the caller shows the result without reading or grading them again."""
    parsed = _parse_responses(responses)
    try:
        with transaction.atomic():
            # With what the result and the redirect need: nothing is read after the commit.
            quiz = _lock_open_quiz(launch.quiz_id, "student__customer", write_pending=False)
            items = quiz_items(quiz)
            _save_locked(quiz, parsed, {item.question_id: item for item in items})
            graded = _complete(quiz, items, finished_by=Quiz.FinishedBy.SUBMIT)
    except ExamError as error:
        _finish_if_overdue(launch.quiz_id, error)
        if error.code == "time_up":
            raise ExamError(
                _("Time is up: the exam was completed with the answers saved before the deadline."),
                code="time_up",
            ) from error
        raise
    launch.quiz = quiz
    return quiz, items, graded


def finish_quiz(quiz_id: int, *, finished_by: str) -> str | None:
    """Grade the saved answers and complete the quiz, exactly once.

    Returns how it was finished (a quiz past its deadline is finished by the deadline,
    whoever asks), or None when it was already complete or, asked to finish by the deadline,
    its deadline has moved on (staff added time).
    """
    with transaction.atomic():
        quiz = Quiz.objects.select_for_update(of=("self",)).select_related("exam").get(pk=quiz_id)
        if quiz.is_finished:
            return None
        if quiz.deadline_at <= timezone.now():
            finished_by = Quiz.FinishedBy.DEADLINE
        elif finished_by == Quiz.FinishedBy.DEADLINE:
            return None  # staff added time since the caller saw the deadline pass
        _write_pending(quiz)  # a finished quiz has its items, answered or not
        _complete(quiz, quiz_items(quiz), finished_by=finished_by)
    return finished_by


# A completed quiz's graded figures (scoring.exams.ExamResult's names), and what completing
# writes; the console's re-opening clears the same figures (staff_services).
RESULT_FIELDS = (
    "correct_answers",
    "wrong_answers",
    "unanswered",
    "percentage",
    "total_score",
    "is_accept",
)
_COMPLETION_FIELDS = ("state", "end_at", "finished_by", *RESULT_FIELDS)


def _complete(quiz: Quiz, items: list[QuizItem], *, finished_by: str) -> exam_scoring.ExamResult:
    """Grade the items of a quiz locked by the caller, store the result and return it."""
    now = timezone.now()
    result = grade(quiz, items)
    quiz.state = Quiz.State.COMPLETED
    quiz.end_at = min(now, quiz.deadline_at)
    quiz.finished_by = finished_by
    for name in RESULT_FIELDS:
        setattr(quiz, name, getattr(result, name))
    quiz.save(update_fields=_COMPLETION_FIELDS)
    logger.info("quiz %s completed by %s: %s%%", quiz.pk, finished_by, result.percentage)
    return result


def pass_mark(quiz: Quiz) -> float:
    """The pass mark the quiz is graded against: as it was at launch (the exam's for quizzes
    launched before it was recorded)."""
    return quiz.accept_score if quiz.accept_score is not None else quiz.exam.accept_score


def score_explained(quiz: Quiz) -> dict:
    """What explains a finished quiz's score to the candidate: the lightest and heaviest
    question weights, the most there was to earn, and the pass mark it was graded against."""
    weights = list(
        QuizQuestion.objects.filter(quiz=quiz).values_list("question__weight", flat=True)
    )
    return {
        "max_score": exam_scoring.most_to_earn(weights),
        "lightest": min(weights, default=0),
        "heaviest": max(weights, default=0),
        "pass_mark": pass_mark(quiz),
    }


def grade(quiz: Quiz, items: list[QuizItem]) -> exam_scoring.ExamResult:
    return exam_scoring.grade(
        [
            exam_scoring.Item(
                weight=item.question.weight, correct=item.question.correct, chosen=item.answer
            )
            for item in items
        ],
        pass_mark(quiz),
    )


def finish_expired_quizzes() -> int:
    """Complete every started quiz whose deadline has passed (run periodically by Huey)."""
    due = Quiz.objects.filter(state=Quiz.State.STARTED, deadline_at__lte=timezone.now())
    count = 0
    for quiz_id in due.values_list("pk", flat=True).iterator():
        count += finish_quiz(quiz_id, finished_by=Quiz.FinishedBy.DEADLINE) is not None
    return count


# ---------------------------------------------------------------------------------------------
# The browser's key and the signed callback


def holds_launch(launch: Launch, browser_key: str | None) -> bool:
    """Whether this browser's key is the one that claimed the launch (never claims)."""
    return bool(
        launch.browser_key_hash
        and browser_key
        and hmac.compare_digest(launch.browser_key_hash, hash_browser_key(browser_key))
    )


def claim_state(launch: Launch, browser_key: str | None) -> Literal["unclaimed", "this", "other"]:
    """Who holds the launch, as seen from a browser with `browser_key` (never claims)."""
    if not launch.browser_key_hash:
        return "unclaimed"
    return "this" if holds_launch(launch, browser_key) else "other"


def new_browser_key() -> str:
    """A browser's key to a launch (given with the start page, claimed with Start)."""
    return secrets.token_urlsafe(32)


def claim_launch(launch: Launch, browser_key: str) -> bool:
    """Bind the launch to the browser whose candidate pressed Start (`browser_key`, the key the
    start page gave it), and record when. Only the start page's POST calls this: a GET of
    exam_url (a messenger's link preview, a mail scanner) must never claim. True when the launch
    is now this key's, also when this browser's other press of Start claimed it a moment
    earlier (a double click: both carry the same key); False when another browser holds it."""
    if launch.browser_key_hash:
        return holds_launch(launch, browser_key)
    now = timezone.now()
    claimed = Launch.objects.filter(pk=launch.pk, browser_key_hash="").update(
        browser_key_hash=hash_browser_key(browser_key), claimed_at=now
    )
    if claimed:
        launch.browser_key_hash = hash_browser_key(browser_key)
        launch.claimed_at = now
        return True
    # Claimed a moment ago: by this browser's other press of Start, or by another browser.
    launch.refresh_from_db(fields=["browser_key_hash", "claimed_at"])
    return holds_launch(launch, browser_key)


def format_number(value: float | None) -> str:
    """70.0 → "70", 72.5 → "72.5", as in the seed's redirect_url."""
    if value is None:
        return ""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def callback_params(launch: Launch) -> dict[str, str]:
    quiz = launch.quiz
    return {
        "student_uuid": quiz.student.uuid,
        "mobile": quiz.student.mobile,
        "eurl": str(quiz.exam_id),
        "quiz_id": str(quiz.pk),
        "percentage": format_number(quiz.percentage),
        "total_score": format_number(quiz.total_score),
        "is_accept": str(bool(quiz.is_accept)),
        "state": quiz.state,
        "launch_id": str(launch.launch_id),
    }


def sign_params(params: dict[str, str], secret: str) -> str:
    """HMAC-SHA256 (hex) of the parameters sorted by name, joined as name=value with "&"."""
    message = "&".join(f"{name}={params[name]}" for name in sorted(params))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def redirect_url(launch: Launch) -> str:
    """The customer's callback_url with the nine result parameters and their signature."""
    if not launch.quiz.is_finished:
        raise ExamError(_("The exam is not finished yet."), code="quiz_not_finished")
    params = callback_params(launch)
    params["signature"] = sign_params(params, launch.quiz.student.customer.signing_secret)
    parts = urlsplit(launch.callback_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


def exam_path(launch: Launch) -> str:
    return f"{_exam_page(get_script_prefix(), get_urlconf())}?launch={launch.launch_id}"


@functools.lru_cache(maxsize=16)
def _exam_page(script_prefix: str, urlconf: str | None) -> str:
    """The exam page's path under this script prefix and URLconf (what reverse() reads): a
    launch's exam_url, reversed once (reversing cost a twentieth of a launch)."""
    return reverse("exams:page")


def exam_url(launch: Launch) -> str:
    """The candidate's entry point, as in the seed: <front>?launch=<launch_id>."""
    return f"{settings.PUBLIC_BASE_URL}{exam_path(launch)}"


# ---------------------------------------------------------------------------------------------
# Flag for review (the candidate's pages)


def flag_question(*, launch: Launch, question_id: int, flagged: bool) -> bool:
    """Set the candidate's "flag for review" on a question of an open quiz; return whether it
    changed. A flag is a note to oneself: it never changes an answer or the grading, and is
    refused, as an answer is, once the quiz is finished or its time is up."""
    try:
        with transaction.atomic():
            quiz = _lock_open_quiz(launch.quiz_id)
            items = QuizQuestion.objects.filter(quiz=quiz, question_id=question_id)
            changed = items.exclude(flagged=flagged).update(flagged=flagged)
            if not changed and not items.exists():  # asked only when nothing changed
                raise ExamError(
                    _("Question %(id)s is not part of this exam.") % {"id": question_id},
                    code="unknown_question",
                )
    except ExamError as error:
        _finish_if_overdue(launch.quiz_id, error)
        raise
    return bool(changed)
