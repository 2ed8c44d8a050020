"""The exam contract (seed 001): exam info, launch, questions, answer, submit, redirect.

Paths, trailing slashes, fields and statuses are the seed's. Errors are `{"error": "..."}`
plus a stable `code`; messages are in Persian, the contract's language, or in English when
the request asks for it with `Accept-Language: en`.
"""

from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

from django.http import HttpRequest, HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import BaseModel

from api.answers import json_answer
from api.auth import client_token_auth
from api.fields import Int, Line, RequestModel, RequestSchema, line, line_or_number
from portal import errors
from portal.customers.models import ClientToken
from portal.db import column_length
from portal.exams import services
from portal.exams.models import Exam, Launch, Quiz, QuizQuestion, Student
from portal.http import ClientTokenRequest
from portal.jsonformat import plain_number
from scoring.exams import ExamResult

router = Router(tags=["Exams (seed 001)"], auth=client_token_auth)
CONTRACT = errors.EXAM_CONTRACT


def speaks_exam_contract(view):
    """Answer in the contract's language (its errors in its envelope: api/main.py's handlers
    and portal.errors)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        with translation.override(CONTRACT.language(request)):
            return view(request, *args, **kwargs)

    return wrapper


router.add_decorator(speaks_exam_contract, mode="view")


# --- schemas ----------------------------------------------------------------------------------


class ExamErrorOut(Schema):
    error: str = Field(..., examples=["Evaluation یافت نشد"])
    code: str = Field(
        ...,
        description="Stable machine-readable reason, e.g. exam_not_found, launch_not_found, "
        "invalid_request, invalid_token, invalid_callback_url, callback_host_not_allowed, "
        "exam_inactive, exam_empty, exam_changed (409: the bank changed during the launch, "
        "try again), unknown_question, invalid_answer, answer_locked, "
        "quiz_finished, time_up, quiz_not_finished; and for any path: not_found (404), "
        "method_not_allowed (405), request_too_large (413), service_unavailable (503, "
        "retry after Retry-After), internal_error (500).",
    )


class ExamInfoOut(Schema):
    eurl: int
    title: str
    type: int
    accept_score: float | int
    number_of_question: int
    duration: int = Field(..., description="Minutes from launch to the deadline.")
    can_back: bool
    is_active: bool


# Customers' ids are often numeric: a whole number is taken as its text too.
if TYPE_CHECKING:
    # Built by line_or_number at run time; the value a schema holds is the text.
    type StudentId = str
    type Mobile = str
    type Answer = str
else:
    StudentId = line_or_number(min_length=1, max_length=column_length(Student, "uuid"))
    Mobile = line_or_number(max_length=column_length(Student, "mobile"))
    Answer = line_or_number(max_length=32)


class LaunchIn(RequestSchema):
    student_uuid: StudentId = Field(..., examples=["stu-uuid-123"])
    mobile: Mobile = Field("", examples=["09123456789"])
    eurl: Int = Field(..., examples=[12])
    callback_url: Annotated[str, line(max_length=column_length(Launch, "callback_url"))] = Field(
        ...,
        examples=["https://client.example.com/exam/callback"],
    )


class StudentOut(Schema):
    uuid: str
    mobile: str


class LaunchOut(Schema):
    launch_id: UUID
    exam_url: str
    quiz_id: int
    eurl: int
    student: StudentOut
    is_existing_quiz: bool


class EvaluationOut(Schema):
    eurl: int
    title: str
    accept_score: float | int
    duration: int
    can_back: bool
    number_of_question: int


# The schemas of the per-question lists are plain pydantic models: a Ninja Schema validates each
# element through its attribute getter, which cost more than the rest of a 200-question answer.
# The document and the JSON are the same.


class QuestionOut(BaseModel):
    id: int
    description: str
    type: bool
    c1: str
    c2: str
    c3: str
    c4: str
    weight: float
    can_shuffle: bool
    current_answer: str | None = Field(
        None, description="The saved answer, numbered as c1..c4 are shown here."
    )
    done: str | None


class LaunchDetailOut(Schema):
    launch_id: UUID
    quiz_id: int
    eurl: int
    student: StudentOut
    evaluation: EvaluationOut
    state: str = Field(..., examples=["started", "completed"])
    start_at: datetime
    end_at: datetime | None
    deadline_at: datetime = Field(..., description="Answers after this moment are refused.")
    questions: list[QuestionOut]


# A RequestSchema, as a plain pydantic model: a submit holds hundreds of them, and a Ninja
# Schema reads each through its attribute getter. (No docstring: it would enter the document.)
class AnswerIn(RequestModel):
    question_id: Int = Field(..., ge=1, le=2**31 - 1)
    # A JSON true is not taken for choice 1 (api/fields.py).
    answer: Answer | None = Field(
        ..., description='"1".."4" as c1..c4 are shown; Persian digits are accepted.'
    )
    done: Annotated[str, line(max_length=column_length(QuizQuestion, "done"))] = Field(
        "in_progress",
        examples=["in_progress", "completed"],
    )


class MessageOut(Schema):
    message: str


class ExamSubmitIn(RequestSchema):
    responses: list[AnswerIn] = Field(
        ...,
        max_length=1000,
        description="The answers to save before finishing; [] finishes with those saved.",
    )


class QuestionDetailsOut(BaseModel):
    id: int
    description: str
    c1: str
    c2: str
    c3: str
    c4: str
    weight: float
    correct_answer: str = Field(..., description="Shown after the exam is finished only.")


class ResponseOut(BaseModel):
    id: int
    quiz: int
    question: int
    answer: str | None
    score: float
    done: str
    question_details: QuestionDetailsOut


class ResultOut(Schema):
    quiz_id: int
    total_questions: int
    correct_answers: int
    wrong_answers: int
    unanswered: int = Field(..., description="Not in the seed: questions left without answer.")
    percentage: float
    total_score: float
    is_accept: bool
    state: str
    responses: list[ResponseOut]


class ExamSubmitOut(Schema):
    message: str
    result: ResultOut
    redirect_url: str


# --- helpers ----------------------------------------------------------------------------------


def _launch(request: ClientTokenRequest, launch_id: str) -> Launch:
    try:
        key = UUID(launch_id)
    except ValueError:
        key = None
    if key is None:
        raise services.ExamError(_("Launch not found."), code="launch_not_found", status=404)
    return services.get_launch(launch_id=key, customer=request.auth.customer)


def _student(quiz: Quiz) -> dict:
    return {"uuid": quiz.student.uuid, "mobile": quiz.student.mobile}


def _question(item: services.QuizItem) -> dict:
    q = item.question
    shown = item.shown_answer
    return {
        "id": q.pk,
        "description": q.description,
        "type": q.type,
        **{f"c{number}": text for number, text in item.shown_choices()},
        "weight": q.weight,
        "can_shuffle": q.can_shuffle,
        "current_answer": None if shown is None else str(shown),
        "done": item.done or None,
    }


def _result(quiz: Quiz, items: list[services.QuizItem], graded: ExamResult) -> dict:
    """ResultOut's fields, in its order and types (api/answers.py renders it as it is)."""
    return {
        "quiz_id": quiz.pk,
        "total_questions": graded.total_questions,
        "correct_answers": graded.correct_answers,
        "wrong_answers": graded.wrong_answers,
        "unanswered": graded.unanswered,
        "percentage": graded.percentage,
        "total_score": graded.total_score,
        "is_accept": graded.is_accept,
        "state": quiz.state,
        "responses": [
            _response(quiz.pk, item, score)
            for item, score in zip(items, graded.scores, strict=True)
        ],
    }


def _response(quiz_id: int, item: services.QuizItem, score: float) -> dict:
    """One graded item, numbered as the candidate saw it (what item.shown_answer and
    item.shown_choices give, read once: a submit has hundreds)."""
    question = item.question
    order = item.order
    texts = (question.c1, question.c2, question.c3, question.c4)
    return {
        "id": item.pk,
        "quiz": quiz_id,
        "question": item.question_id,
        "answer": None if item.answer is None else str(order.index(item.answer) + 1),
        "score": score,
        "done": item.done,
        "question_details": {
            "id": item.question_id,
            "description": question.description,
            "c1": texts[order[0] - 1],
            "c2": texts[order[1] - 1],
            "c3": texts[order[2] - 1],
            "c4": texts[order[3] - 1],
            "weight": question.weight,
            "correct_answer": str(order.index(question.correct) + 1),
        },
    }


# --- endpoints --------------------------------------------------------------------------------

ERRORS = {400: ExamErrorOut, 401: ExamErrorOut, 404: ExamErrorOut}

# The launch route comes first: otherwise "launch" would be taken for an eurl.


@router.post("/integration/exams/launch/", response={201: LaunchOut, **ERRORS, 409: ExamErrorOut})
def launch(request: ClientTokenRequest, payload: LaunchIn):
    """Create the student if missing and a quiz, or resume the started one.

    Each call returns a new `launch_id` (the key to `exam_url`); `is_existing_quiz` tells
    whether the quiz was resumed. Parallel calls for the same student and exam share a quiz.
    """
    return Status(201, launched(request.auth, payload))


def launched(
    token: ClientToken,
    payload: LaunchIn,
    exam_read: tuple[Exam, list[int]] | None = None,
) -> dict:
    """Launch as the payload asks; the body of the 201 (the `launch` operation and its
    shortcut, api/shortcuts.py, alike). `exam_read`: see services.launch_quiz."""
    launch, existing = services.launch_quiz(
        token=token,
        student_uuid=payload.student_uuid,
        mobile=payload.mobile,
        eurl=payload.eurl,
        callback_url=payload.callback_url,
        exam_read=exam_read,
    )
    quiz = launch.quiz
    return {
        "launch_id": launch.launch_id,
        "exam_url": services.exam_url(launch),
        "quiz_id": quiz.pk,
        "eurl": quiz.exam_id,
        "student": _student(quiz),
        "is_existing_quiz": existing,
    }


@router.get("/integration/exams/{eurl}/", response={200: ExamInfoOut, **ERRORS})
def exam_info(request: ClientTokenRequest, eurl: Line):
    """Exam information for the customer's exam intro page."""
    try:
        number = int(eurl)
    except ValueError:
        number = -1
    exam = services.get_exam(customer=request.auth.customer, eurl=number)
    return {
        "eurl": exam.pk,
        "title": exam.title,
        "type": exam.type,
        "accept_score": plain_number(exam.accept_score),
        "number_of_question": exam.number_of_question,
        "duration": exam.duration,
        "can_back": exam.can_back,
        "is_active": exam.is_active,
    }


@router.get("/launch/{launch_id}/", response={200: LaunchDetailOut, **ERRORS})
def launch_detail(request: ClientTokenRequest, launch_id: Line):
    """The quiz of a launch with its questions in this quiz's order; never the right answers."""
    launch = _launch(request, launch_id)
    quiz = launch.quiz
    exam = quiz.exam
    return {
        "launch_id": launch.launch_id,
        "quiz_id": quiz.pk,
        "eurl": exam.pk,
        "student": _student(quiz),
        # As this quiz has them: an edit of the exam since its launch doesn't change them.
        "evaluation": {
            "eurl": exam.pk,
            "title": exam.title,
            "accept_score": plain_number(services.pass_mark(quiz)),
            "duration": exam.duration,
            "can_back": exam.can_back,
            "number_of_question": quiz.total_questions,
        },
        "state": quiz.state,
        "start_at": quiz.start_at,
        "end_at": quiz.end_at,
        "deadline_at": quiz.deadline_at,
        "questions": [_question(item) for item in services.quiz_items(quiz)],
    }


@router.post("/launch/{launch_id}/answer/", response={200: MessageOut, **ERRORS})
def answer(request: ClientTokenRequest, launch_id: Line, payload: AnswerIn):
    """Save one answer. Refused after the deadline, after submit, and (when the exam has
    `can_back: false`) when it would change an answered question."""
    # The common case never gets here: api/shortcuts.py's answer_shortcut saves it first.
    launch = _launch(request, launch_id)
    services.save_answer(
        launch=launch, question_id=payload.question_id, answer=payload.answer, done=payload.done
    )
    return {"message": _("Saved.")}


@router.post("/launch/{launch_id}/submit/", response={200: ExamSubmitOut, **ERRORS})
def submit(request: ClientTokenRequest, launch_id: Line, payload: ExamSubmitIn):
    """Save the given responses (all or none) and finish the quiz. A second submit is 400."""
    launch = _launch(request, launch_id)
    quiz, items, graded = services.submit_quiz_items(
        launch=launch,
        responses=[
            services.ResponseIn(question_id=r.question_id, answer=r.answer, done=r.done)
            for r in payload.responses
        ],
    )
    # ExamSubmitOut's fields, rendered without validating its hundreds of responses again.
    return json_answer(
        {
            "message": _("Responses recorded and the exam is finished."),
            "result": _result(quiz, items, graded),
            "redirect_url": services.redirect_url(launch),
        }
    )


@router.get("/launch/{launch_id}/redirect/", response={302: None, **ERRORS})
def redirect(request: ClientTokenRequest, launch_id: Line):
    """302 to the customer's callback_url with the nine result parameters and `signature`."""
    launch = _launch(request, launch_id)
    return HttpResponseRedirect(services.redirect_url(launch))
