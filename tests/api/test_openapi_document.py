"""The OpenAPI document tells the truth: one name per schema, the exam's own schemas for its
submit, typed answers for results, resume and health, the text rule on every input string,
and every documented path answering errors in a contract's format."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from ninja import Schema

from api.main import api
from portal import errors
from portal.text import LINE_PATTERN, SHOWN_LINE_PATTERN, TEXT_PATTERN


@pytest.fixture(scope="module")
def document() -> dict:
    return api.get_openapi_schema()


def resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def test_no_two_api_schemas_share_a_name():
    """Django Ninja names a component after its class: two classes of one name would
    document one operation with the other's schema (exam and scorecard SubmitIn did)."""
    by_name: dict[str, set[str]] = {}
    for cls in subclasses(Schema):
        if cls.__module__.startswith("api."):
            by_name.setdefault(cls.__name__, set()).add(f"{cls.__module__}.{cls.__qualname__}")
    shared = {name: places for name, places in by_name.items() if len(places) > 1}
    assert not shared


def test_exam_submit_is_documented_with_the_exams_own_schemas(document):
    operation = document["paths"]["/api/launch/{launch_id}/submit/"]["post"]
    body = resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    assert body["type"] == "object" and body["required"] == ["responses"]
    assert body["properties"]["responses"]["type"] == "array"
    answer = resolve(document, body["properties"]["responses"]["items"])
    assert set(answer["properties"]) == {"question_id", "answer", "done"}
    ok = resolve(document, operation["responses"][200]["content"]["application/json"]["schema"])
    assert {"message", "result", "redirect_url"} <= set(ok["properties"])


@pytest.mark.parametrize(
    ("path", "statuses", "fields"),
    [
        (
            "/api/assessment/results/{assessmentId}",
            [200],
            {"assessmentId", "scoreBreakdown", "benchmarks", "nextSteps"},
        ),
        ("/api/assessment/resume", [200], {"hasActiveAssessment", "assessment"}),
        ("/api/health", [200, 503], {"status", "services", "performance"}),
    ],
)
def test_scorecard_answers_have_real_schemas(document, path, statuses, fields):
    responses = document["paths"][path]["get"]["responses"]
    for status in statuses:
        schema = resolve(document, responses[status]["content"]["application/json"]["schema"])
        assert fields <= set(schema.get("properties", {})), (path, status, schema)


def test_health_names_its_states(document):
    health = document["components"]["schemas"]["HealthOut"]
    assert health["properties"]["status"]["enum"] == ["healthy", "degraded", "unhealthy"]


def strings_in(document: dict, schema: dict, where: str, seen: set) -> Iterator[tuple]:
    """(where, string schema) for every string a client may send within `schema`."""
    if "$ref" in schema:
        name = schema["$ref"]
        if name in seen:
            return
        seen = seen | {name}
        schema = resolve(document, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from strings_in(document, option, where, seen)
    if schema.get("type") == "string":
        yield where, schema
    for name, sub in schema.get("properties", {}).items():
        yield from strings_in(document, sub, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(schema.get(key), dict):
            yield from strings_in(document, schema[key], f"{where}[{key}]", seen)


def input_strings(document: dict) -> Iterator[tuple[str, dict]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                where = f"{label} {parameter['in']} {parameter['name']}"
                yield from strings_in(document, parameter["schema"], where, set())
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield from strings_in(document, media["schema"], f"{label} body", set())


def test_every_input_string_publishes_the_control_character_rule(document):
    """Each string a client sends is checked (api/fields.py) and says so: a pattern, or a
    format or length that leaves no room for a control character."""
    unchecked = [
        where
        for where, schema in input_strings(document)
        if schema.get("pattern") not in (LINE_PATTERN, SHOWN_LINE_PATTERN, TEXT_PATTERN)
        and schema.get("format") != "email"
        and schema.get("maxLength") != 0
    ]
    assert not unchecked
    assert len(list(input_strings(document))) > 30


def test_free_text_is_the_only_multiline_input(document):
    multiline = [
        where for where, schema in input_strings(document) if schema.get("pattern") == TEXT_PATTERN
    ]
    assert multiline == ["POST /api/assessment/submit body.feedback"]


def test_the_patterns_say_what_the_checks_do():
    line, text = re.compile(LINE_PATTERN), re.compile(TEXT_PATTERN)
    assert line.fullmatch("سلام\u200cدنیا") and text.fullmatch("a\tb\r\nc")
    for char in ("\x00", "\x1f", "\x7f", "\x85"):
        assert not line.fullmatch(f"a{char}") and not text.fullmatch(f"a{char}")
    assert not line.fullmatch("a\nb") and not line.fullmatch("a\tb")
    shown = re.compile(SHOWN_LINE_PATTERN)
    assert shown.fullmatch(" a ") and shown.fullmatch("سلام\u200cدنیا")
    for blank in ("", "   ", "\u200b", "\u00a0\u200c", "\ufeff "):
        assert line.fullmatch(blank) and not shown.fullmatch(blank)
    assert not shown.fullmatch("a\x00")


def test_numbers_in_requests_are_integers(document):
    def numbers(schema: Any, where: str, seen: set) -> Iterator[tuple[str, str]]:
        if isinstance(schema, dict):
            if "$ref" in schema and schema["$ref"] not in seen:
                yield from numbers(resolve(document, schema), where, seen | {schema["$ref"]})
            if schema.get("type") in ("integer", "number", "boolean"):
                yield where, schema["type"]
            for key, value in schema.items():
                if key != "$ref":
                    yield from numbers(value, f"{where}.{key}", seen)
        elif isinstance(schema, list):
            for item in schema:
                yield from numbers(item, where, seen)

    found = []
    for path, methods in document["paths"].items():
        for operation in methods.values():
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                found += [kind for _, kind in numbers(media["schema"], path, set())]
    assert found and set(found) == {"integer"}


def test_bounds_are_published_as_json_schema_keywords(document):
    """A bound pydantic can't place on the type itself is published under its own name
    ({"ge": 0, "le": 86400} on the scorecard's optional timeSpent), which no JSON Schema reader
    knows: every bound is a minimum, maximum, minLength or maxLength."""

    def own_names(schema: Any, where: str) -> Iterator[str]:
        if isinstance(schema, dict):
            if "type" in schema and {"ge", "gt", "le", "lt", "min_length", "max_length"} & set(
                schema
            ):
                yield where
            for key, value in schema.items():
                yield from own_names(value, f"{where}.{key}")
        elif isinstance(schema, list):
            for n, item in enumerate(schema):
                yield from own_names(item, f"{where}[{n}]")

    assert not list(own_names(document, "document"))
    time_spent = document["components"]["schemas"]["SaveIn"]["properties"]["timeSpent"]
    assert time_spent["anyOf"] == [
        {"type": "integer", "minimum": 0, "maximum": 86400},
        {"type": "null"},
    ]


def test_length_bounded_text_publishes_its_lengths_and_the_rule(document):
    strings = dict(input_strings(document))
    expected = {
        "POST /api/integration/assessment-launch body.results_url": (None, 2000, LINE_PATTERN),
        "POST /api/integration/assessment-launch body.user_id": (1, 128, SHOWN_LINE_PATTERN),
        "POST /api/integration/exams/launch/ body.callback_url": (None, 2000, LINE_PATTERN),
        "POST /api/integration/exams/launch/ body.student_uuid": (1, 128, LINE_PATTERN),
        "POST /api/assessment/start body.company": (None, 200, LINE_PATTERN),
        "POST /api/assessment/submit body.feedback": (None, 5000, TEXT_PATTERN),
    }
    published = {
        where: (
            strings[where].get("minLength"),
            strings[where]["maxLength"],
            strings[where]["pattern"],
        )
        for where in expected
    }
    assert published == expected


def test_every_documented_path_speaks_a_contract(document):
    contracts = {
        path: errors.contract_of(path.replace("{", "x").replace("}", ""))
        for path in document["paths"]
    }
    assert not [
        path
        for path, contract in contracts.items()
        if contract in (errors.PAGES, errors.OTHER_API_CONTRACT)
    ]
    assert set(contracts.values()) == {
        errors.EXAM_CONTRACT,
        errors.ROLEPLAY_CONTRACT,
        errors.ROLEPLAY_START,
        errors.SCORECARD_CONTRACT,
    }


def test_the_development_router_is_mounted_only_when_debug(client):
    """/api/test/* is a development API's (api.main.build_api(development=True)), never
    production's: not routed, not documented, and its paths are the scorecard's 404."""
    from api.main import build_api

    def routes(built) -> set[str]:
        return {str(pattern.pattern) for pattern in built.urls[0]}

    assert not {route for route in routes(api) if route.startswith("test/")}
    assert "test/sample-assessment" in routes(build_api(development=True))
    for built in (api, build_api(development=True)):
        paths = built.get_openapi_schema()["paths"]
        assert not [path for path in paths if path.startswith("/api/test/")]
    response = client.get("/api/openapi.json")
    assert not [path for path in response.json()["paths"] if "/test/" in path]
    missing = client.get("/api/test/clear-session")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
