"""Statements per request of the scorecard flow (issue 10): start, save-progress, submit,
results. Counted as a web worker runs them, in autocommit (transaction=True tests): a test's
own transaction would add a savepoint around each counter's upsert.

A rate limit counts with one upsert on the database, and with none on Redis (one pipelined
INCRBY + EXPIRE); request figures go out every few seconds, not per request (kept out here)."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import metrics, ratelimit
from portal.scorecards import selectors, services
from portal.scorecards.content import load_scorecard
from portal.scorecards.models import Visit, VisitorSession
from tests.factories import qids

pytestmark = pytest.mark.django_db(transaction=True)
JSON = "application/json"


@pytest.fixture
def flow(document, monkeypatch):
    """The active scorecard (its content already in this process's memory), a visitor, and no
    flush of request figures during the test."""
    scorecard = load_scorecard(document)
    selectors.active_scorecard()
    metrics.flush()
    monkeypatch.setattr(metrics, "FLUSH_SECONDS", 3600.0)
    return scorecard, Client(REMOTE_ADDR="203.0.113.40")


def rate_limit_statements() -> int:
    return 0 if ratelimit._redis() is not None else 1


def save(client, step, answers):
    body = {"step": step, "responses": answers}
    return client.post("/api/assessment/save-progress", body, content_type=JSON)


def test_each_request_of_the_flow_in_a_few_statements(flow, django_assert_num_queries):
    scorecard, visitor = flow
    rate = rate_limit_statements()

    # The counter, the new session, the visit (on the active version, read in its INSERT).
    with django_assert_num_queries(2 + rate):
        started = visitor.post("/api/assessment/start", {}, content_type=JSON)
    assert started.status_code == 200

    for step, ids in enumerate(qids(scorecard)):
        # The session with its open visit and version (one join: the rate limit's scope reads
        # it), the counter, the answers merged in one UPDATE; the session's expiry moves at
        # most once a minute (see the next test).
        with django_assert_num_queries(2 + rate):
            saved = save(visitor, step, dict.fromkeys(ids, "C"))
        assert saved.status_code == 200 and saved.json()["canProceed"]
    assert 3 + rate <= 5  # the bound, on either database, with the expiry's write

    # The counter, the session (read: its expiry moved a moment ago), the open visit with its
    # version row, and its UPDATE, made only if the visit is still as read (no e-mail address:
    # nothing to queue, no transaction).
    with django_assert_num_queries(3 + rate):
        submitted = visitor.post(
            "/api/assessment/submit", {"completionTime": 60}, content_type=JSON
        )
    assert submitted.status_code == 200 and submitted.json()["totalScore"] == 48

    # The counter, the visit, the session, the benchmarks' scores.
    url = f"/api/assessment/results/{submitted.json()['assessmentId']}"
    with django_assert_num_queries(3 + rate):
        results = visitor.get(url)
    assert results.status_code == 200 and results.json()["totalScore"] == 48


def test_a_save_a_minute_after_the_last_activity_moves_the_expiry(flow, django_assert_num_queries):
    scorecard, visitor = flow
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    session = VisitorSession.objects.get()
    earlier = timezone.now() - timedelta(seconds=61)
    VisitorSession.objects.filter(pk=session.pk).update(
        last_activity=earlier, expires_at=earlier + timedelta(hours=24)
    )
    first = qids(scorecard)[0]
    # The expiry's write is the one statement more.
    with django_assert_num_queries(3 + rate_limit_statements()):
        save(visitor, 0, dict.fromkeys(first, "C"))
    session.refresh_from_db()
    assert session.expires_at > timezone.now() + timedelta(hours=23, minutes=59)
    assert session.last_activity > earlier + timedelta(seconds=60)


def test_within_the_minute_a_request_reads_the_session_and_writes_none(flow):
    """On SQLite each write is a commit on the one write lock: a visitor's requests within a
    minute of the expiry's last move leave the session row alone."""
    _, visitor = flow
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    before = VisitorSession.objects.get()
    with CaptureQueriesContext(connection) as statements:
        assert visitor.get("/api/assessment/resume").json()["hasActiveAssessment"]
    table = VisitorSession._meta.db_table
    assert not [q for q in statements if q["sql"].startswith("UPDATE") and table in q["sql"]]
    after = VisitorSession.objects.get()
    assert (after.last_activity, after.expires_at) == (before.last_activity, before.expires_at)


def test_activity_never_brings_back_a_session_that_ended_meanwhile(flow):
    _, visitor = flow
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    cookie = VisitorSession.objects.get().session_id
    read = services.live_session(cookie)  # this request's read, due for an extension …
    read.last_activity = read.expires_at = timezone.now() - services.SESSION_REFRESH
    assert services.end_session(cookie)  # … then "start over" ended it in another request
    services.keep_alive(read)
    assert services.live_session(cookie) is None
    assert visitor.get("/api/assessment/resume").status_code == 401


def test_an_incomplete_save_and_an_email_in_the_same_statements(flow, django_assert_num_queries):
    scorecard, visitor = flow
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    first = qids(scorecard)[0]
    with django_assert_num_queries(2 + rate_limit_statements()):
        body = {"step": 0, "responses": {first[0]: "B"}, "email": "ada@example.com"}
        body["timeSpent"] = 12
        saved = visitor.post("/api/assessment/save-progress", body, content_type=JSON)
    assert saved.json()["canProceed"] is False
    assert saved.json()["validationErrors"] == [f"{q}: please choose an answer" for q in first[1:]]
    visit = Visit.objects.get()
    assert visit.responses == {first[0]: "B"}
    assert (visit.email, visit.time_spent, visit.steps_completed) == (
        "ada@example.com",
        {"0": 12},
        0,
    )


def test_saves_merge_in_the_database_and_never_lose_an_answer(flow):
    """Two visitors' tabs of one session save different answers of one step, each with what it
    read before the other saved: both answers stay, and the step counts as completed."""
    scorecard, visitor = flow
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    first = qids(scorecard)[0]
    save(visitor, 0, dict.fromkeys(first[:-1], "D"))

    session = Visit.objects.get().session
    stale = services.take_open_visit(session)  # read before the other tab's save
    save(visitor, 0, {first[0]: "E"})
    session._open_visit = stale
    saved = services.save_progress(session=session, step=0, responses={first[-1]: "A"})
    assert saved.can_proceed and saved.visit.steps_completed == 1
    visit = Visit.objects.get()
    assert visit.responses == {**dict.fromkeys(first[:-1], "D"), first[0]: "E", first[-1]: "A"}
    assert visit.steps_completed == 1


def test_a_save_after_submit_says_the_same_however_it_raced(flow):
    # A save that read the visit open just before the submit said "already submitted", one
    # that read it after "No assessment in progress": PostgreSQL, reading in parallel, gave
    # the first more often, so the two databases answered a race differently.
    scorecard, visitor = flow
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    for step, ids in enumerate(qids(scorecard)):
        save(visitor, step, dict.fromkeys(ids, "C"))

    session = Visit.objects.get().session
    stale = services.take_open_visit(session)  # read just before a submit completed it
    visitor.post("/api/assessment/submit", {"completionTime": 60}, content_type=JSON)
    session._open_visit = stale
    with pytest.raises(services.ScorecardError, match="No assessment in progress") as raced:
        services.save_progress(session=session, step=0, responses={"value_assurance_1": "A"})
    assert raced.value.code == "ASSESSMENT_NOT_FOUND" and raced.value.status == 404
    # Read now: none is open.
    late = save(visitor, 0, {"value_assurance_1": "A"})
    assert late.status_code == 404
    assert late.json()["error"]["message"] == "No assessment in progress: start one first."


def test_a_submit_scores_outside_any_transaction(flow, monkeypatch):
    # SQLite's write lock is the whole database's: every other visitor's write would wait
    # while a submit held it to score.
    scorecard, visitor = flow
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    for step, ids in enumerate(qids(scorecard)):
        save(visitor, step, dict.fromkeys(ids, "C"))
    locked = []
    score_visit = selectors.score_visit
    monkeypatch.setattr(
        selectors,
        "score_visit",
        lambda *args: locked.append(connection.in_atomic_block) or score_visit(*args),
    )
    submitted = visitor.post("/api/assessment/submit", {"completionTime": 60}, content_type=JSON)
    assert submitted.status_code == 200 and submitted.json()["totalScore"] == 48
    assert locked == [False]


def test_a_save_between_the_early_scoring_and_the_lock_is_scored(flow, monkeypatch):
    # The visit changed after it was read and scored: it is read and scored again under the
    # lock, with the answer that came in between.
    scorecard, visitor = flow
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    for step, ids in enumerate(qids(scorecard)):
        save(visitor, step, dict.fromkeys(ids, "C"))
    first = qids(scorecard)[0][0]
    scored_early = services._scored_early

    def then_a_save(*args):
        early = scored_early(*args)
        assert save(visitor, 0, {first: "E"}).status_code == 200
        return early

    monkeypatch.setattr(services, "_scored_early", then_a_save)
    submitted = visitor.post("/api/assessment/submit", {"completionTime": 60}, content_type=JSON)
    assert submitted.status_code == 200
    visit = Visit.objects.get()
    assert visit.responses[first] == "E" and visit.completed_at is not None
    assert submitted.json()["totalScore"] == visit.total_score != 48


def test_request_figures_reach_the_health_check_without_a_write_per_request(
    flow, django_assert_num_queries
):
    _, visitor = flow
    with django_assert_num_queries(rate_limit_statements()):
        visitor.get("/api/assessment/resume")  # no cookie: the counter, then nothing to read
    figures = metrics.figures(now=time.time())  # flushes this process's tally first
    assert figures["requestsPerMinute"] > 0
