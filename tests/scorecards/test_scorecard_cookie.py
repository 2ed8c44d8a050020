"""The `assessment-session` cookie: Secure exactly when the portal is served over https (so a
plain-http staging site keeps its sessions), on the configured domain, and a cleared session is
over on the server too."""

import http.cookiejar
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
JSON = "application/json"
ROOT = Path(__file__).resolve().parents[2]


def settings_under(**env: str) -> dict:
    """The cookie settings a fresh process computes from this environment."""
    code = (
        "import json, portal.settings as s; print(json.dumps([s.SCORECARD_COOKIE_SECURE, "
        "s.SCORECARD_COOKIE_DOMAIN, s.SESSION_COOKIE_SECURE]))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "DEBUG")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=clean | env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    secure, domain, session_secure = json.loads(out.stdout.strip().splitlines()[-1])
    return {"secure": secure, "domain": domain, "session_secure": session_secure}


def test_secure_follows_the_scheme_of_public_base_url_as_the_other_cookies():
    staging = settings_under(DEBUG="false", PUBLIC_BASE_URL="http://staging.example:8000")
    assert staging == {"secure": False, "domain": None, "session_secure": False}
    production = settings_under(
        DEBUG="false",
        PUBLIC_BASE_URL="https://aireadycheck.com",
        SCORECARD_COOKIE_DOMAIN="aireadycheck.com",
    )
    assert production == {"secure": True, "domain": "aireadycheck.com", "session_secure": True}


@pytest.mark.django_db(transaction=True)
def test_over_plain_http_every_call_after_start_keeps_the_session(live_server, settings, document):
    """A real cookie jar, as a browser keeps it: a Secure cookie never goes back over http."""
    from portal.scorecards.content import load_scorecard

    load_scorecard(document)
    settings.DEBUG = False
    settings.PUBLIC_BASE_URL = live_server.url  # http://localhost:port: plain-http staging
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path: str, body: dict) -> dict:
        request = urllib.request.Request(
            f"{live_server.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": JSON},
            method="POST",
        )
        with opener.open(request, timeout=10) as response:
            return json.loads(response.read())

    started = post("/api/assessment/start", {})
    assert [cookie.name for cookie in jar] == ["assessment-session"]
    saved = post("/api/assessment/save-progress", {"step": 0, "responses": {}})
    assert saved["saved"] is True, "the session cookie came back"
    with opener.open(f"{live_server.url}/api/assessment/resume", timeout=10) as response:
        resumed = json.loads(response.read())
    assert resumed["assessment"]["assessmentId"] == started["assessmentId"]


@pytest.mark.urls("tests.development_urls")
def test_the_cookie_domain_is_a_setting(scorecard, settings):
    settings.SCORECARD_COOKIE_DOMAIN = "aireadycheck.com"
    visitor = Client()
    cookie = visitor.post("/api/assessment/start", {}, content_type=JSON).cookies[
        "assessment-session"
    ]
    assert cookie["domain"] == "aireadycheck.com"
    cleared = visitor.get("/api/test/clear-session").cookies["assessment-session"]
    assert cleared.value == "" and cleared["domain"] == "aireadycheck.com"
    assert cleared["max-age"] == 0


@pytest.mark.urls("tests.development_urls")
def test_clear_session_ends_the_session_on_the_server(scorecard):
    visitor = Client()
    visitor.post("/api/assessment/start", {}, content_type=JSON)
    session_id = visitor.cookies["assessment-session"].value
    response = visitor.get("/api/test/clear-session")
    assert response.status_code == 200 and response.json() == {"cleared": True}
    # A client that kept the cookie (or replays it) no longer has a session.
    replay = Client()
    replay.cookies["assessment-session"] = session_id
    resumed = replay.get("/api/assessment/resume")
    assert resumed.status_code == 401
    assert resumed.json()["error"]["code"] == "SESSION_EXPIRED"
    saved = replay.post(
        "/api/assessment/save-progress", {"step": 0, "responses": {}}, content_type=JSON
    )
    assert saved.status_code == 401
    # A fresh start gets a new session.
    fresh = Client().post("/api/assessment/start", {}, content_type=JSON).json()
    assert fresh["sessionId"] != session_id
