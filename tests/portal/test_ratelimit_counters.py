"""The shared counters under rate limits and request figures (issue 10): one atomic step per
count (an upsert on the database, a pipelined INCRBY + EXPIRE on Redis), expired rows pruned,
a failing store never failing a request, and request figures tallied in memory and flushed."""

import logging
import time
import uuid

import pytest
from django.test import RequestFactory

from portal import metrics, ratelimit
from portal.scorecards.models import Counter

WINDOW_START = 1_700_000_000 - 1_700_000_000 % 3600


def unique_key() -> str:
    # The Redis test database is shared by parallel test processes: never reuse a key.
    return f"test:{uuid.uuid4()}"


def on_database() -> bool:
    return ratelimit._redis() is None


@pytest.mark.django_db
def test_incr_counts_per_key():
    first, second = unique_key(), unique_key()
    now = time.time()
    assert [ratelimit.incr(first, 1, expires=now + 60, now=now) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.incr(first, 5, expires=now + 60, now=now) == 8
    assert ratelimit.incr(second, 2, expires=now + 60, now=now) == 2
    ratelimit.incr_many([(first, 2, now + 60), (second, 1, now + 60)], now=now)
    assert ratelimit.counts([first, second, unique_key()]) == {first: 10, second: 3}


@pytest.mark.django_db(transaction=True)
def test_a_hit_is_one_statement_and_no_transaction(django_assert_num_queries):
    key = unique_key()
    clock = lambda: WINDOW_START + 10.0  # noqa: E731
    with django_assert_num_queries(1 if on_database() else 0) as captured:
        state = ratelimit.hit(key, 5, 3600, clock=clock)
    assert state.remaining == 4
    if on_database():
        (statement,) = [query["sql"] for query in captured.captured_queries]
        # PostgreSQL's is prepared (portal.db), which Django logs as "QUERY = '…' - PARAMS = …".
        assert statement.removeprefix("QUERY = '").startswith('INSERT INTO "portal_counter"')
        assert "ON CONFLICT" in statement and "RETURNING" in statement


@pytest.mark.django_db
def test_prune_expired_deletes_only_counters_whose_time_is_over():
    if not on_database():
        pytest.skip("Redis expires its own keys")
    clock = lambda: WINDOW_START + 3599.0  # noqa: E731
    ratelimit.hit(unique_key(), 5, 3600, clock=clock)  # lives until the window's end + grace
    ratelimit.hit(unique_key(), 5, 60, clock=clock)  # a minute window: ends sooner
    assert Counter.objects.count() == 2
    assert ratelimit.prune_expired(now=WINDOW_START + 3600 + ratelimit.GRACE_SECONDS) == 0
    assert ratelimit.prune_expired(now=WINDOW_START + 3600 + ratelimit.GRACE_SECONDS + 1) == 2
    assert not Counter.objects.exists()


@pytest.mark.django_db
def test_prune_keeps_the_live_window_counting():
    if not on_database():
        pytest.skip("Redis expires its own keys")
    key = unique_key()
    clock = lambda: WINDOW_START + 100.0  # noqa: E731
    ratelimit.hit(key, 3, 3600, clock=clock)
    assert ratelimit.prune_expired(now=WINDOW_START + 100.0) == 0
    assert ratelimit.hit(key, 3, 3600, clock=clock).remaining == 1


@pytest.mark.django_db
def test_a_failing_store_counts_nothing_and_serves_the_request(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionError("the store is down")

    monkeypatch.setattr(ratelimit, "incr", broken)
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.80")
    with caplog.at_level(logging.WARNING, logger="portal.ratelimit"):
        state = ratelimit.check(request, "ip", 2, 60, name="test-broken")
    assert (state.limited, state.remaining) == (False, 2)
    assert "rate limit test-broken not counted" in caplog.text


@pytest.mark.django_db
def test_figures_are_tallied_in_memory_and_flushed(monkeypatch):
    monkeypatch.setattr(metrics, "FLUSH_SECONDS", 3600.0)
    metrics.flush()
    # Buckets of their own (a moment years ago): other tests' figures never mix in.
    moment = 1_500_000_000.0 + (uuid.uuid4().int % 10_000) * 3600
    writes = []
    monkeypatch.setattr(ratelimit, "incr_many", lambda items, now: writes.append(list(items)))
    for duration, error in ((100, False), (300, True), (200, False), (400, False)):
        metrics.record(duration, error=error, now=moment)
    assert writes == []  # not flushed yet: nothing written per request
    monkeypatch.undo()
    monkeypatch.setattr(metrics, "FLUSH_SECONDS", 3600.0)
    assert metrics.figures(now=moment + 30) == {
        "avgResponseTime": 250,
        "requestsPerMinute": 0.8,
        "errorRate": 25.0,
    }
    # Five minutes on, they are out of the window.
    assert metrics.figures(now=moment + 6 * 60)["requestsPerMinute"] == 0


@pytest.mark.django_db
def test_figures_flush_by_themselves_after_flush_seconds(monkeypatch):
    monkeypatch.setattr(metrics, "FLUSH_SECONDS", 0.0)
    moment = 1_400_000_000.0 + (uuid.uuid4().int % 10_000) * 3600
    metrics.record(50, error=False, now=moment)
    bucket = int(moment // metrics.BUCKET_SECONDS)
    assert ratelimit.counts([f"metrics:{bucket}:count"]) == {f"metrics:{bucket}:count": 1}


@pytest.mark.django_db
def test_a_failing_flush_drops_the_tally_and_logs(monkeypatch, caplog):
    monkeypatch.setattr(metrics, "FLUSH_SECONDS", 3600.0)
    metrics.record(10, error=False)

    def broken(*args, **kwargs):
        raise ConnectionError("the store is down")

    monkeypatch.setattr(ratelimit, "incr_many", broken)
    with caplog.at_level(logging.WARNING, logger="portal.metrics"):
        metrics.flush()
    assert "request figures not counted" in caplog.text
    assert metrics._tally == {}
