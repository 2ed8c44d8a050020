"""Schemathesis against the live server over the whole /api/openapi.json: every operation,
every check, every phase (examples, coverage, fuzzing, stateful), with a real client token, a
real exam launch and a real scorecard session where the operations need them.

Bounded and repeatable: a fixed seed, deterministic generation, no example database and a few
examples per operation (docs/security.md, "The OpenAPI document").
"""

import json
from pathlib import Path

import httpx
import pytest
import schemathesis
from schemathesis.engine import Status, StopReason, events, from_schema

from portal.scorecards.content import load_scorecard
from portal.scorecards.services import COOKIE
from tests.factories import CALLBACK

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SCORECARD_FILE = ROOT / "portal/scorecards/fixtures/scorecard_v1.json"
# One pass of each phase (without `max-time`, which would repeat fuzzing until it runs out).
MAX_EXAMPLES = 25

# Statuses a request that matches the schema may get besides schemathesis' defaults (2xx, 3xx,
# 401, 403, 404, 409, 429, 5xx - 5xx is the not_a_server_error check's to catch): 400 is
# each contract's refusal of a well-formed request by a rule no schema can state (a callback
# URL not on an allowed host, a quiz already finished, an assessment not yet answered in full,
# an unknown or spent start ticket, a return_url on another partner's host).
WELL_FORMED_REFUSED = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]


@pytest.fixture
def portal(live_server, settings) -> str:
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def launch_id(portal, token, exam) -> str:
    """A real launch of the exam, as the customer's server makes it."""
    body = {"student_uuid": "stu-1", "mobile": "09120000000", "eurl": exam.pk}
    response = httpx.post(
        f"{portal}/api/integration/exams/launch/",
        json=body | {"callback_url": CALLBACK},
        headers={"X-Client-Token": token},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()["launch_id"]


@pytest.fixture
def visitor(portal) -> tuple[str, str]:
    """A scorecard visitor with a completed assessment: (session cookie, assessmentId)."""
    scorecard = load_scorecard(json.loads(SCORECARD_FILE.read_text(encoding="utf-8")))
    with httpx.Client(base_url=portal, timeout=30) as browser:
        started = browser.post("/api/assessment/start", json={"email": "ceo@company.com"})
        assert started.status_code == 200, started.text
        for step, section in enumerate(scorecard.sections.all()):
            answers = {question.qid: "B" for question in section.questions.all()}
            saved = browser.post(
                "/api/assessment/save-progress", json={"step": step, "responses": answers}
            )
            assert saved.json()["canProceed"], saved.text
        submitted = browser.post("/api/assessment/submit", json={"completionTime": 300})
        assert submitted.status_code == 200, submitted.text
        return browser.cookies[COOKIE], submitted.json()["assessmentId"]


def failures_of(schema) -> tuple[list[str], StopReason | None]:
    """Run every phase on every operation; describe each failed check and engine error."""
    found: list[str] = []
    stop_reason = None
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status in (
            Status.FAILURE,
            Status.ERROR,
        ):
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        info = check.failure_info
                        found.append(
                            f"{event.recorder.label} [{event.phase.value}] {check.name}: "
                            f"{info.failure.title}\n{info.failure.message}\n{info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            found.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            found.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            stop_reason = event.stop_reason
    return found, stop_reason


def test_every_operation_holds_to_the_openapi_document(portal, token, exam, launch_id, visitor):
    cookie, assessment_id = visitor
    config = schemathesis.Config.from_dict(
        {
            "seed": 20260101,
            "headers": {
                "X-Client-Token": token,
                "Cookie": f"{COOKIE}={cookie}",
                # No kept-alive connection outlives the test (and its database connection).
                "Connection": "close",
            },
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            # Real ids, so that the operations behind them are reached, not only their 404s.
            "parameters": {
                "path.launch_id": launch_id,
                "path.eurl": str(exam.pk),
                "path.assessmentId": assessment_id,
            },
            "checks": {
                "positive_data_acceptance": {"expected-statuses": WELL_FORMED_REFUSED},
            },
            "operations": [
                {
                    # Answers are checked against the live content (its question ids and
                    # choices), which a static schema cannot list: 422 VALIDATION_ERROR.
                    "include-path-regex": "^/api/assessment/(save-progress|submit)$",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [*WELL_FORMED_REFUSED, "422"]
                        }
                    },
                }
            ],
        }
    )
    schema = schemathesis.openapi.from_url(f"{portal}/api/openapi.json", config=config)
    found, stop_reason = failures_of(schema)
    assert not found, f"{len(found)} failures:\n\n" + "\n\n".join(found)
    assert stop_reason == StopReason.COMPLETED, stop_reason
