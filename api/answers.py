"""Answers rendered as Django Ninja renders them (the same JSON and Content-Type), without
validating the dict an endpoint has just built against its response schema once more: for the
answers sent with every request of a visitor's assessment (api/scorecards.py) and for an exam's
submit, whose result lists every question (api/exams.py), Ninja's validation and dump cost more
than the rest of the request's Python. Each dict is built from typed values in its schema's
field order (a float field gets a float), so the schema still documents it exactly; the tests
compare each answer with its schema's dump."""

import json

from django.http import HttpResponse
from ninja.renderers import JSONRenderer

JSON_TYPE = f"{JSONRenderer.media_type}; charset={JSONRenderer.charset}"


def json_answer(body: dict) -> HttpResponse:
    """A 200 with `body` as Ninja's JSONRenderer writes it."""
    return HttpResponse(json.dumps(body), content_type=JSON_TYPE)
