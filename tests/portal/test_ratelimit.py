"""Rate limits: fixed windows in the shared counters, the seed's headers and 429 envelope."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection
from django.http import JsonResponse
from django.test import RequestFactory
from django.urls import path
from ninja import NinjaAPI

import portal.urls
from portal import ratelimit
from portal.ratelimit import client_ip, hit, rate_limit, session_scope
from tests.browser.conftest import database_env

ROOT = Path(__file__).resolve().parents[2]
WINDOW_START = 1_700_000_000 - 1_700_000_000 % 3600  # an hour boundary


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The rate limits' time, 100.5 s into an hour window until a test moves it (clock[0])."""
    now = [WINDOW_START + 100.5]
    monkeypatch.setattr(ratelimit, "CLOCK", lambda: now[0])
    return now


def unique_key() -> str:
    # The Redis test database is shared by parallel test processes: never reuse a key.
    return f"test:{uuid.uuid4()}"


@rate_limit("ip", limit=2, window=3600)
def limited_view(request):
    return JsonResponse({"ok": True})


api = NinjaAPI(urls_namespace="ratelimit-test-api")


@api.get("/ping")
@rate_limit("session", limit=1, window=60, name="test-ninja-ping")
def ping(request):
    return {"pong": True}


urlpatterns = [path("test/limited/", limited_view), path("test/api/", api.urls)]
urlpatterns += portal.urls.urlpatterns


@pytest.mark.django_db
def test_counts_remaining_and_headers_within_a_window():
    key = unique_key()
    clock = lambda: WINDOW_START + 100.5  # noqa: E731
    states = [hit(key, 3, 3600, clock=clock) for _ in range(4)]
    assert [s.remaining for s in states] == [2, 1, 0, 0]
    assert [s.limited for s in states] == [False, False, False, True]
    assert {s.reset_epoch for s in states} == {WINDOW_START + 3600}
    assert states[3].retry_after == 3500
    assert states[0].headers() == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "2",
        "X-RateLimit-Reset": str(WINDOW_START + 3600),
    }
    assert states[3].headers()["X-RateLimit-RetryAfter"] == "3500"
    assert states[3].headers()["Retry-After"] == "3500"


@pytest.mark.django_db
def test_the_count_starts_again_in_the_next_window():
    key = unique_key()
    now = [WINDOW_START + 3590.0]
    for _ in range(2):
        hit(key, 2, 3600, clock=lambda: now[0])
    assert hit(key, 2, 3600, clock=lambda: now[0]).retry_after == 10
    now[0] = WINDOW_START + 3600.2  # the window has ended
    fresh = hit(key, 2, 3600, clock=lambda: now[0])
    assert (fresh.limited, fresh.remaining) == (False, 1)
    assert fresh.reset_epoch == WINDOW_START + 7200
    # Keys do not share a count.
    assert hit(unique_key(), 2, 3600, clock=lambda: now[0]).remaining == 1


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_view_over_its_limit_answers_the_seed_envelope(client, clock):
    # A client address of its own: the Redis test database outlives this test.
    address = {"REMOTE_ADDR": f"2001:db8::{uuid.uuid4().hex[:4]}"}
    first = client.get("/test/limited/", **address)
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert "X-RateLimit-RetryAfter" not in first.headers
    client.get("/test/limited/", **address)
    # Another client keeps its own allowance.
    other = {"REMOTE_ADDR": f"2001:db8::{uuid.uuid4().hex[:4]}:1"}
    assert client.get("/test/limited/", **other).status_code == 200

    response = client.get("/test/limited/", headers={"X-Request-ID": "req_limited01"}, **address)
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    assert error["message"]
    assert error["details"] == {"limit": 2, "window": 3600}
    assert error["requestId"] == "req_limited01" == response.headers["X-Request-ID"]
    assert error["retryAfter"] == 3500
    assert response.headers["Retry-After"] == "3500"
    assert response.headers["X-RateLimit-RetryAfter"] == "3500"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Reset"] == str(WINDOW_START + 3600)
    assert error["timestamp"].endswith("Z")
    assert response.headers["Content-Security-Policy"] == "default-src 'self'"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_ninja_endpoint_per_session(client, clock):
    session = client.session
    session["seen"] = True
    session.save()
    ok = client.get("/test/api/ping")
    assert ok.status_code == 200 and ok.json() == {"pong": True}
    assert ok.headers["X-RateLimit-Limit"] == "1"
    assert ok.headers["X-RateLimit-Remaining"] == "0"
    limited = client.get("/test/api/ping")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert limited.json()["error"]["details"] == {"limit": 1, "window": 60}
    assert limited.headers["Retry-After"] == str(limited.json()["error"]["retryAfter"])

    # Another session (same IP) has its own count.
    client.cookies.clear()
    other = client.session
    other["seen"] = True
    other.save()
    assert client.get("/test/api/ping").status_code == 200


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_views_count_in_the_windows_of_the_injected_clock(client, clock):
    """The clock the views count by is the one tests set: a limit is reached or reset when
    that clock says so, never because the wall clock passed an hour boundary mid-test."""
    address = {"REMOTE_ADDR": f"2001:db8::{uuid.uuid4().hex[:4]}"}
    clock[0] = WINDOW_START + 3599.5  # half a second before the window ends
    assert [client.get("/test/limited/", **address).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    clock[0] = WINDOW_START + 3600.0  # the next window
    fresh = client.get("/test/limited/", **address)
    assert fresh.status_code == 200
    assert fresh.headers["X-RateLimit-Reset"] == str(WINDOW_START + 7200)


def test_session_scope_falls_back_to_the_ip_without_a_session():
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.9")
    assert session_scope(request) == "ip:192.0.2.9"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.2.3.4", "10.0.0.1"),  # no trusted proxy: the header is forged, ignored
        (0, None, "10.0.0.1"),
        (1, "1.2.3.4, 198.51.100.20", "198.51.100.20"),  # the right-most, appended by our proxy
        (1, "198.51.100.20", "198.51.100.20"),
        (2, "1.2.3.4, 198.51.100.20, 10.0.0.9", "198.51.100.20"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "1.2.3.4, not-an-ip", "10.0.0.1"),  # malformed: REMOTE_ADDR
        (1, "", "10.0.0.1"),
        (1, None, "10.0.0.1"),
        (3, "1.2.3.4, 5.6.7.8", "10.0.0.1"),  # fewer hops than proxies
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", **extra)
    assert client_ip(request) == expected


WORKER = """
import sys

import django

django.setup()
from portal import ratelimit

key, hits, now = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ratelimit.CLOCK = lambda: now  # the test's window, whatever the wall clock says
for _ in range(hits):
    ratelimit.hit(key, 1000, 3600)
"""


@pytest.mark.django_db(transaction=True)
def test_separate_workers_share_one_count(clock):
    """Three web "workers" (two other processes and this one) hit the same key at once:
    every request is counted exactly once."""
    key = unique_key()
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PATH": "/usr/bin:/bin",
        # The same cache namespace as this test (tests/conftest.py gives each test its own).
        "CACHE_KEY_PREFIX": django_settings.CACHES["default"]["KEY_PREFIX"],
    }
    if os.environ.get("HUEY_REDIS_URL"):
        env["HUEY_REDIS_URL"] = os.environ["HUEY_REDIS_URL"]
    env |= database_env()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, key, "30", repr(clock[0])], cwd=ROOT, env=env
        )
        for _ in range(2)
    ]
    for _ in range(30):
        hit(key, 1000, 3600)
    for worker in workers:
        assert worker.wait(timeout=120) == 0
    # A new connection, as another worker would open, sees the same count.
    caches["default"].close()
    connection.close()
    assert hit(key, 1000, 3600).remaining == 1000 - 91
