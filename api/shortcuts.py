"""The hottest requests, their common case answered in front of Django Ninja: exam day's answer
autosave and launch, and the scorecard's save-progress (portal/urls.py mounts them before the
API).

They stand above the API: they render with its renderer, refuse with its exception handlers
and hand anything else to its operations (api.main.api), so api.main and the routers (api/exams.py,
api/scorecards.py) never import this module.
"""

import functools
import re
from collections.abc import Callable
from typing import cast
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ValidationError

from api import exams, scorecards
from api.main import api
from portal import errors
from portal.customers.models import hash_token, parse_client_token
from portal.exams import services
from portal.http import PortalRequest
from portal.scorecards import origin
from portal.text import read_json

# --- the autosave's shortcut ------------------------------------------------------------------
# The answer autosave is exam day's hottest request. Its common case — a well-formed body, a
# valid token, a quiz taking answers — is saved here by the one statement of
# services.save_answer_fast before Django Ninja parses anything (Ninja's operation, schema and
# renderer cost as much as the save). Anything else, and every refusal, goes on to the `answer`
# operation (api/exams.py), which applies the contract's rules and answers its errors: this
# only ever answers "Saved.", exactly as that operation does.

_SHORTCUT_KEYS = {"question_id", "answer", "done"}
_SHORTCUT_ANSWERS = {"1", "2", "3", "4", 1, 2, 3, 4}
_SHORTCUT_DONE = re.compile(rf"[A-Za-z0-9_-]{{1,{services.DONE_LENGTH}}}")


def _shortcut_body(request: HttpRequest) -> tuple[int, str | int, str] | None:
    """(question_id, answer, done) when the body is plainly valid, else None (let Ninja judge)."""
    if request.content_type != "application/json":
        return None
    try:
        body = read_json(request.body)
    except ValueError:
        return None
    if type(body) is not dict or not body.keys() <= _SHORTCUT_KEYS or "answer" not in body:
        return None
    question_id, answer, done = body.get("question_id"), body["answer"], body.get("done")
    if type(question_id) is not int or not 1 <= question_id <= 2**31 - 1:
        return None
    if type(answer) not in (str, int) or answer not in _SHORTCUT_ANSWERS:
        return None
    if done is None and "done" not in body:
        done = "in_progress"  # AnswerIn's default
    if type(done) is not str or not _SHORTCUT_DONE.fullmatch(done):
        return None
    return question_id, answer, done


def _shortcut_raw_token(request: HttpRequest) -> str:
    """The client token in either header (X-Client-Token first, as the API's auth reads
    them), canonical, not looked up; "" when neither holds one."""
    scheme, _space, value = request.headers.get("Authorization", "").partition(" ")
    for raw in (
        request.headers.get("X-Client-Token"),
        value if scheme.lower() == "token" else None,
    ):
        canonical = parse_client_token(raw)
        if canonical:
            return canonical
    return ""


def _shortcut_token(request: HttpRequest) -> str:
    """The SHA-256 of the request's client token: the saving statement checks it."""
    canonical = _shortcut_raw_token(request)
    return hash_token(canonical) if canonical else ""


@csrf_exempt
def answer_shortcut(request: HttpRequest, launch_id: str) -> HttpResponse:
    """POST /api/launch/{launch_id}/answer/ — the common case saved at once; see above."""
    if request.method == "POST":
        body = _shortcut_body(request)
        token_hash = _shortcut_token(request) if body else ""
        try:
            key = UUID(launch_id)
        except ValueError:
            key = None
        if body and token_hash and key is not None:
            question_id, answer_value, done = body
            if services.save_answer_fast(
                token_hash=token_hash,
                launch_id=key,
                question_id=question_id,
                answer=answer_value,
                done=done,
            ):
                content, content_type = _saved_response(errors.exam_language(request))
                return HttpResponse(content, content_type=content_type)
    return _operation("launch/<launch_id>/answer/")(request, launch_id=launch_id)


@functools.cache
def _saved_response(language: str) -> tuple[bytes, str]:
    """The `answer` operation's 200 ("Saved.") in `language`, rendered once by the API's own
    renderer: the same bytes on every save, which rendering cost a tenth of."""
    with translation.override(language):
        response = api.create_response(HttpRequest(), {"message": _("Saved.")}, status=200)
    return response.content, response["Content-Type"]


@csrf_exempt
def launch_shortcut(request: HttpRequest) -> HttpResponse:
    """POST /api/integration/exams/launch/ — a plainly valid launch by a valid token, made
    before Django Ninja's operation runs (its parsing, auth and rendering cost a fifth of a
    launch); the body is validated by the operation's own schema and the launch made by the
    same function. A refused launch gets the API's own answer to its ExamError; anything else
    (a bad body, no usable token) goes on to the `launch` operation, which answers the
    contract's errors."""
    if request.method == "POST" and request.content_type == "application/json":
        raw = _shortcut_raw_token(request)
        payload = _payload(exams.LaunchIn, request) if raw else None
        # The token, and on PostgreSQL the exam with its bank, in one statement.
        found = services.authenticate_for_launch(raw, payload.eurl) if payload else None
        if payload is not None and found is not None:
            token, exam_read = found
            with translation.override(errors.exam_language(request)):
                try:
                    body = exams.launched(token, payload, exam_read)
                except services.ExamError as error:
                    return api.on_exception(request, error)
                body = exams.LaunchOut.model_validate(body).model_dump(mode="json")
                return api.create_response(request, body, status=201)
    return _operation("integration/exams/launch/")(request)


def _payload[T: BaseModel](schema: type[T], request: HttpRequest) -> T | None:
    """The body as the operation's `schema` reads it, or None (not JSON, or not valid: the
    operation refuses it)."""
    try:
        return schema.model_validate(read_json(request.body))
    except (ValueError, ValidationError):
        return None


# --- the scorecard's save-progress -----------------------------------------------------------
# Four of a visitor's six requests. A same-site JSON body its schema (SaveIn) accepts is saved
# here by the operation's own function (api.scorecards.saved_answer, which counts it under the
# save's rate limit); anything else goes on, not yet counted, to the operation, which refuses it
# in the contract's format. Refusals once counted are the API's own exception handlers'.


@csrf_exempt
def save_progress_shortcut(request: PortalRequest) -> HttpResponse:
    """POST /api/assessment/save-progress — see above."""
    payload = None
    if request.method == "POST" and origin.refusal(request) is None:
        payload = _payload(scorecards.SaveIn, request)
    if payload is None:
        return _operation("assessment/save-progress")(request)
    try:
        return scorecards.saved_answer(request, payload)  # counted there, once
    except Exception as error:  # as Django Ninja's operation answers it
        return api.on_exception(request, error)


@functools.cache
def _operation(pattern: str) -> Callable[..., HttpResponse]:
    """The view of the API's operation at `pattern`, as the API mounts it."""
    # An operation's pattern is a URLPattern: its callback is the view.
    view = next(p.callback for p in api.urls[0] if str(p.pattern) == pattern)
    return cast("Callable[..., HttpResponse]", view)
