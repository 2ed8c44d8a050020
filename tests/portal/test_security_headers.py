"""The seed's security headers on every kind of response, and the request id in headers and logs."""

import logging
import re
from io import StringIO

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import path

import portal.urls
from portal.request_id import RequestIdFilter

SEED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-XSS-Protection": "1; mode=block",
    "Content-Security-Policy": "default-src 'self'",
}
log = logging.getLogger("tests.request_id")


def boom(request):
    raise RuntimeError("boom")


def logs_something(request):
    log.warning("working on it")
    return HttpResponse("ok")


# The portal's URLs plus a view that fails and one that logs (this module is the test URLconf).
urlpatterns = [path("test/boom/", boom), path("test/log/", logs_something)]
urlpatterns += portal.urls.urlpatterns


def assert_seed_headers(response) -> None:
    for header, value in SEED_HEADERS.items():
        assert response.headers.get(header) == value, (header, response.headers.get(header))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",  # a redirect
        "/sandbox/",
        "/exam/?launch=00000000-0000-0000-0000-000000000000",  # an error page
        "/roleplay/",
        "/admin/login/",
        "/api/openapi.json",
        "/api/exams/",  # an API error (no token)
        "/static/css/portal.css",  # served by WhiteNoise
        "/static/vendor/htmx.min.js",
        "/no/such/page/",  # 404
    ],
)
def test_every_response_carries_the_seed_headers(client, url):
    response = client.get(url)
    assert_seed_headers(response)
    assert re.fullmatch(r"req_[0-9a-f]{16}", response.headers["X-Request-ID"])


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_server_error_carries_the_seed_headers():
    response = Client(raise_request_exception=False).get("/test/boom/")
    assert response.status_code == 500
    assert_seed_headers(response)


@pytest.mark.django_db
def test_the_api_docs_are_served_locally_under_the_same_csp(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert_seed_headers(response)
    html = response.text
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    # The only inline <script> is JSON data, which the browser does not run.
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or "application/json" in attrs for attrs in scripts), scripts


def test_our_templates_have_no_inline_script_or_style():
    templates = settings.BASE_DIR / "templates"
    for template in templates.rglob("*.html"):
        if template.is_relative_to(templates / "emails"):
            continue  # mail clients need inline styles; no browser serves these under our CSP
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert "<style" not in text, template
        assert not re.search(r"\sstyle=", text), template
        assert not re.search(r"\son[a-z]+=", text), template


@pytest.mark.django_db
def test_a_sane_incoming_request_id_is_kept_and_a_bad_one_replaced(client):
    kept = client.get("/sandbox/", headers={"X-Request-ID": "lb-4f2a.9:abc"})
    assert kept.headers["X-Request-ID"] == "lb-4f2a.9:abc"
    for bad in ["", "with space", "x" * 200, "evil\\nline", "<script>"]:
        replaced = client.get("/sandbox/", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"req_[0-9a-f]{16}", replaced.headers["X-Request-ID"]), bad


@pytest.fixture
def portal_log():
    """A handler formatted and filtered as settings.LOGGING's console handler."""
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["text"]["format"]))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_log_lines_of_a_request_carry_its_id(client, portal_log):
    response = client.get("/test/log/", headers={"X-Request-ID": "req_fromproxy1"})
    assert response.headers["X-Request-ID"] == "req_fromproxy1"
    client.get("/no/such/page/", headers={"X-Request-ID": "req_notfound1"})
    log.warning("outside any request")

    lines = portal_log.getvalue().splitlines()
    assert any("[req_fromproxy1] tests.request_id: working on it" in line for line in lines)
    # Django's own records made while serving (here its 404 warning) carry the id too.
    assert any("[req_notfound1] django.request: Not Found" in line for line in lines), lines
    assert any("[-] tests.request_id: outside any request" in line for line in lines)
