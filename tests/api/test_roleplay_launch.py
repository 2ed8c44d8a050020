"""The roleplay launch (seed 000) end to end: Q3's server launches the candidate, the
candidate's browser posts the ticket, the session opens the roleplay pages; plus URL safety,
invalid requests, the results_url fallback, the secret-length check and the OpenAPI document.
"""

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import Client
from django.utils import timezone

from portal.partners.models import Partner
from portal.roleplays.checks import check_partner_jwt_secrets, check_partner_secrets_are_distinct
from portal.roleplays.models import Assessment, LaunchTicket, UsedToken

LAUNCH_PATH = "/api/integration/assessment-launch"
START_PATH = "/api/integration/assessment-start"
SESSION_KEY = "roleplay_assessment_id"
AGAIN = "Attempt assessment"
LAUNCHES = 6


def launched(launch, body: dict) -> dict:
    response = launch(body)
    assert response.status_code == 200, response.content
    return response.json()


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert (body["success"], body["error_code"]) == (False, code)
    assert set(body) == {"success", "error_code", "detail"}
    return body


def assert_nothing_created() -> None:
    counts = (Assessment.objects.count(), LaunchTicket.objects.count(), UsedToken.objects.count())
    assert counts == (0, 0, 0)


def ticket_of(redirect_url: str) -> str:
    return parse_qs(urlsplit(redirect_url).query)["ticket"][0]


@pytest.fixture
def browser() -> Client:
    """The candidate's browser, arriving from Q3's page: CSRF checks on, as in production."""
    return Client(enforce_csrf_checks=True)


def post_form(browser: Client, redirect_url: str, cluster_id: str = "b4bf406c-4f9"):
    """What Q3's auto-submitting form does: POST redirect_url as it is, form-encoded."""
    return browser.post(
        redirect_url,
        urlencode({"assessment_cluster_id": cluster_id}),
        content_type="application/x-www-form-urlencoded",
    )


def assert_error_page(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert AGAIN in response.content.decode()


# --- happy path -------------------------------------------------------------------------------


def test_launch_answers_the_seeds_body_with_an_absolute_redirect_url(
    partner, cluster, mint, launch, launch_body
):
    body = launched(launch, launch_body(mint()))

    assert set(body) == {
        "success",
        "user_id",
        "assessment_cluster_id",
        "redirect_url",
        "message",
    }
    assert body["success"] is True
    assert body["user_id"] == "EMP_789"
    assert body["assessment_cluster_id"] == "b4bf406c-4f9"
    assert body["message"] == "User authenticated successfully"
    assert body["redirect_url"].startswith(
        f"{settings.PUBLIC_BASE_URL}/api/integration/assessment-start?ticket="
    )
    assert body["redirect_url"].startswith("http://testserver/")  # absolute

    assessment = Assessment.objects.get()
    assert (assessment.partner, assessment.cluster) == (partner, cluster)
    assert (assessment.user_id, assessment.user_name) == ("EMP_789", "johndoe")
    assert assessment.return_url == "https://q3.example.com/dashboard"
    assert assessment.results_url == "https://q3.example.com/api/receive-assessment-results"
    assert assessment.status == Assessment.Status.IN_PROGRESS

    ticket = ticket_of(body["redirect_url"])
    stored = LaunchTicket.objects.get()
    assert stored.assessment == assessment
    assert stored.ticket_hash == hashlib.sha256(ticket.encode()).hexdigest() != ticket
    assert stored.used_at is None
    lifetime = stored.expires_at - timezone.now()
    assert timedelta(minutes=9) < lifetime <= timedelta(minutes=10)


def test_redirect_url_follows_public_base_url(partner, mint, launch, launch_body, settings):
    settings.PUBLIC_BASE_URL = "https://roleplays.example.com"
    body = launched(launch, launch_body(mint()))
    assert body["redirect_url"].startswith(
        "https://roleplays.example.com/api/integration/assessment-start?ticket="
    )


def test_the_form_post_opens_the_assessment_in_the_session(
    partner, mint, launch, launch_body, browser
):
    redirect_url = launched(launch, launch_body(mint()))["redirect_url"]
    session = browser.session
    session["before"] = "launch"
    session.save()
    old_key = session.session_key

    response = post_form(browser, redirect_url)

    assert response.status_code == 303
    assert response["Location"] == "/roleplay/"
    assert "no-store" in response["Cache-Control"]
    assert browser.session[SESSION_KEY] == Assessment.objects.get().pk
    assert browser.session.session_key != old_key  # a new key: no session fixation
    assert LaunchTicket.objects.get().used_at is not None


def test_a_relaunch_resumes_the_assessment_with_the_latest_details(
    partner, mint, launch, launch_body, browser
):
    first = launched(launch, launch_body(mint()))
    second = launched(
        launch,
        launch_body(
            mint(jti="second-click"),  # the same second would otherwise mint the same token
            user_name="John Doe",
            return_url="https://q3.example.com/home",
            results_url="https://q3.example.com/results/v2",
        ),
    )

    assessment = Assessment.objects.get()
    assert (assessment.user_name, assessment.return_url, assessment.results_url) == (
        "John Doe",
        "https://q3.example.com/home",
        "https://q3.example.com/results/v2",
    )
    assert LaunchTicket.objects.filter(assessment=assessment).count() == 2
    assert ticket_of(first["redirect_url"]) != ticket_of(second["redirect_url"])
    # Either ticket opens the one assessment.
    assert post_form(browser, second["redirect_url"]).status_code == 303
    assert browser.session[SESSION_KEY] == assessment.pk


def test_a_completed_assessment_is_not_resumed(partner, mint, launch, launch_body):
    launched(launch, launch_body(mint()))
    Assessment.objects.update(status=Assessment.Status.COMPLETED)
    launched(launch, launch_body(mint(jti="second-click")))
    assert Assessment.objects.filter(status=Assessment.Status.IN_PROGRESS).count() == 1
    assert Assessment.objects.count() == 2


def test_another_user_gets_another_assessment(partner, mint, launch, launch_body):
    launched(launch, launch_body(mint()))
    launched(launch, launch_body(mint(user_id="EMP_001"), user_id="EMP_001"))
    assert sorted(Assessment.objects.values_list("user_id", flat=True)) == ["EMP_001", "EMP_789"]


@pytest.mark.django_db(transaction=True)
def test_parallel_launches_of_one_user_share_one_assessment(
    live_server, settings, partner, mint, launch_body, together
):
    settings.PUBLIC_BASE_URL = live_server.url
    bodies = [launch_body(mint(jti=f"click-{i}")) for i in range(LAUNCHES)]

    def launch_one(index: int) -> httpx.Response:
        return httpx.post(f"{live_server.url}{LAUNCH_PATH}", json=bodies[index], timeout=30)

    responses = together(LAUNCHES, launch_one)
    assert [r.status_code for r in responses] == [200] * LAUNCHES, [r.text for r in responses]
    assessment = Assessment.objects.get()
    assert LaunchTicket.objects.filter(assessment=assessment).count() == LAUNCHES
    assert len({r.json()["redirect_url"] for r in responses}) == LAUNCHES


# --- results_url fallback ---------------------------------------------------------------------


@pytest.mark.parametrize("omitted", ["missing", "empty", "null"])
def test_without_results_url_results_go_to_the_partners_default(
    partner, mint, launch, launch_body, omitted
):
    body = launch_body(mint())
    if omitted == "missing":
        del body["results_url"]
    else:
        body["results_url"] = "" if omitted == "empty" else None
    launched(launch, body)
    assert Assessment.objects.get().results_url == (
        "https://q3.example.com/api/receive-assessment-results"
    )


def test_without_results_url_aio_callback_url_comes_first(partner, mint, launch, launch_body):
    Partner.objects.filter(pk=partner.pk).update(
        aio_callback_url="https://q3.example.com/aio/callback"
    )
    body = launch_body(mint())
    del body["results_url"]
    launched(launch, body)
    assert Assessment.objects.get().results_url == "https://q3.example.com/aio/callback"


# --- the ticket -------------------------------------------------------------------------------


def test_a_reused_ticket_gets_the_error_page(partner, mint, launch, launch_body, browser):
    redirect_url = launched(launch, launch_body(mint()))["redirect_url"]
    assert post_form(browser, redirect_url).status_code == 303

    stranger = Client(enforce_csrf_checks=True)
    response = post_form(stranger, redirect_url)
    assert_error_page(response, 410)
    assert "already been used" in response.content.decode()
    assert SESSION_KEY not in stranger.session


def test_an_expired_ticket_gets_the_error_page(partner, mint, launch, launch_body, browser):
    redirect_url = launched(launch, launch_body(mint()))["redirect_url"]
    LaunchTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post_form(browser, redirect_url)
    assert_error_page(response, 410)
    assert "expired" in response.content.decode()
    assert SESSION_KEY not in browser.session
    assert LaunchTicket.objects.get().used_at is None


@pytest.mark.parametrize("query", ["?ticket=made-up-ticket", "?ticket=", ""])
def test_an_unknown_ticket_gets_the_error_page(partner, mint, launch, launch_body, browser, query):
    launched(launch, launch_body(mint()))
    response = post_form(browser, f"http://testserver{START_PATH}{query}")
    assert_error_page(response, 400)
    assert SESSION_KEY not in browser.session
    assert LaunchTicket.objects.get().used_at is None


def test_a_ticket_posted_with_another_cluster_gets_the_error_page(
    partner, mint, launch, launch_body, browser
):
    redirect_url = launched(launch, launch_body(mint()))["redirect_url"]
    response = post_form(browser, redirect_url, cluster_id="c0ffee00-123")
    assert_error_page(response, 400)
    assert SESSION_KEY not in browser.session
    # The mismatch spends nothing: the right form still opens the assessment.
    assert post_form(browser, redirect_url).status_code == 303


def test_a_ticket_posted_without_the_cluster_gets_the_error_page(
    partner, mint, launch, launch_body, browser
):
    redirect_url = launched(launch, launch_body(mint()))["redirect_url"]
    response = browser.post(redirect_url, "", content_type="application/x-www-form-urlencoded")
    assert_error_page(response, 400)


# --- URL safety -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["return_url", "results_url"])
@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.net/collect",  # a host Q3 has not allowed
        "https://q3.example.com.evil.example.net/",
        "ftp://q3.example.com/file",
        "javascript:alert(1)",
        "/dashboard",
        "https://evil.example.net\\@q3.example.com/",
        "https://user:pass@evil.example.net/",
    ],
)
def test_a_url_off_the_partners_hosts_is_refused(partner, mint, launch, launch_body, field, url):
    refused(launch(launch_body(mint(), **{field: url})), 400, "URL_NOT_ALLOWED")
    assert_nothing_created()


@pytest.mark.parametrize("field", ["return_url", "results_url"])
@pytest.mark.parametrize(
    "url", ["http://localhost/x", "http://127.0.0.1:8000/x", "http://2130706433/"]
)
def test_an_allowed_host_on_loopback_is_refused_when_loopback_is_not_allowed(
    partner, mint, launch, launch_body, settings, field, url
):
    Partner.objects.filter(pk=partner.pk).update(allowed_hosts="localhost,127.0.0.1,2130706433")
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    body = refused(launch(launch_body(mint(), **{field: url})), 400, "URL_NOT_ALLOWED")
    assert "loopback" in body["detail"]
    assert_nothing_created()


def test_the_same_loopback_host_passes_when_loopback_is_allowed(
    partner, mint, launch, launch_body, settings
):
    """The counterpart of the test above: there it is the address that is refused."""
    Partner.objects.filter(pk=partner.pk).update(allowed_hosts="localhost,127.0.0.1,2130706433")
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    body = launch_body(mint(), return_url="http://2130706433/", results_url="http://localhost/x")
    launched(launch, body)


def test_an_allowed_host_resolving_to_a_private_address_is_refused(
    partner, mint, launch, launch_body
):
    Partner.objects.filter(pk=partner.pk).update(allowed_hosts="intranet.q3.example.com")
    body = launch_body(mint(), results_url="https://intranet.q3.example.com/results")
    detail = refused(launch(body), 400, "URL_NOT_ALLOWED")["detail"]
    assert "private" in detail
    assert_nothing_created()


# --- invalid requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("this is not json", "application/json"),
        ('{"user_id": "EMP_789",', "application/json"),
        ("user_id=EMP_789&user_name=johndoe", "application/x-www-form-urlencoded"),
        ("[1, 2, 3]", "application/json"),
        ("", "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_an_invalid_request(partner, launch, raw, content_type):
    refused(launch(raw, content_type=content_type), 422, "INVALID_REQUEST")
    assert_nothing_created()


@pytest.mark.parametrize(
    "field", ["user_id", "user_name", "assessment_cluster_id", "auth_token", "return_url"]
)
def test_a_missing_field_is_an_invalid_request(partner, mint, launch, launch_body, field):
    body = launch_body(mint())
    del body[field]
    detail = refused(launch(body), 422, "INVALID_REQUEST")["detail"]
    assert field in detail
    assert_nothing_created()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_id", 789),
        ("user_id", ""),
        ("user_id", "x" * 129),
        ("auth_token", None),
        ("return_url", ["x"]),
        ("user_name", "john\x00doe"),  # PostgreSQL could not even store it
        ("assessment_cluster_id", "b4bf406c-4f9\x00"),
    ],
)
def test_a_wrong_field_is_an_invalid_request(partner, mint, launch, launch_body, field, value):
    refused(launch(launch_body(mint(), **{field: value})), 422, "INVALID_REQUEST")
    assert_nothing_created()


@pytest.mark.parametrize("field", ["user_id", "assessment_cluster_id"])
@pytest.mark.parametrize("blank", ["   ", "\u200b", "\u00a0\u200c "])
def test_a_blank_id_is_an_invalid_request_even_when_the_token_carries_it(
    partner, mint, launch, launch_body, field, blank
):
    """An id of nothing but spaces or invisible characters names nobody: refused before the
    token is looked at, as an empty one is, not launched for a user nobody can see."""
    detail = refused(
        launch(launch_body(mint(**{field: blank}), **{field: blank})), 422, "INVALID_REQUEST"
    )["detail"]
    assert field in detail and "blank" in detail
    assert_nothing_created()


def test_an_id_with_spaces_around_it_is_kept_as_sent(partner, mint, launch, launch_body):
    """Only a blank id is refused: the partner's ids are compared and stored as they are."""
    user = " EMP_789 "
    response = launch(launch_body(mint(user_id=user), user_id=user))
    assert response.status_code == 200, response.content
    assert Assessment.objects.get().user_id == user


def test_the_exam_contract_keeps_its_own_error_format(db, launch):
    """The roleplay handlers only answer for the roleplay router."""
    response = Client().post(
        "/api/integration/exams/launch/", "nope", content_type="application/json"
    )
    assert "error_code" not in response.json()


# --- the system check -------------------------------------------------------------------------


def test_the_system_check_refuses_an_active_partner_with_a_short_secret(partner):
    assert check_partner_jwt_secrets() == []
    Partner.objects.filter(pk=partner.pk).update(jwt_secret="x" * 31)

    errors = check_partner_jwt_secrets()
    assert [e.id for e in errors] == ["roleplays.E001"]
    assert "Q3" in errors[0].msg
    with pytest.raises(SystemCheckError, match="roleplays.E001"):
        call_command("check")


def test_the_system_check_ignores_inactive_partners_and_the_default_secret(partner):
    Partner.objects.filter(pk=partner.pk).update(jwt_secret="x" * 31, is_active=False)
    Partner.objects.create(name="Env", jwt_secret="", base_url="https://env.example.com")
    assert check_partner_jwt_secrets() == []
    Partner.objects.filter(pk=partner.pk).update(jwt_secret="x" * 32, is_active=True)
    assert check_partner_jwt_secrets() == []


@pytest.mark.django_db(transaction=True)
def test_the_partner_checks_leave_the_connection_as_they_found_it(partner):
    """Every management command runs them first, run_huey's main thread too, which never
    queries again: a connection they opened would stay open, idle, for the consumer's life."""
    connection.close()
    assert check_partner_jwt_secrets() == [] and check_partner_secrets_are_distinct() == []
    assert connection.connection is None
    connection.ensure_connection()
    assert check_partner_jwt_secrets() == []
    assert connection.connection is not None  # one in use is left alone


# --- the OpenAPI document ---------------------------------------------------------------------


def test_the_openapi_document_lists_both_endpoints_and_their_errors(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    error = schema["components"]["schemas"]["LaunchErrorOut"]
    assert set(error["properties"]) == {"success", "error_code", "detail"}

    launch_responses = paths[LAUNCH_PATH]["post"]["responses"]
    assert set(launch_responses) == {"200", "400", "401", "403", "404", "422"}
    assert launch_responses["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LaunchErrorOut"
    }
    assert "TOKEN_REPLAYED" in launch_responses["401"]["description"]
    description = paths[LAUNCH_PATH]["post"]["description"]
    for code in (
        "INVALID_REQUEST",
        "INVALID_TOKEN",
        "TOKEN_EXPIRED",
        "TOKEN_REPLAYED",
        "CLAIMS_MISMATCH",
        "CLUSTER_NOT_FOUND",
        "CLUSTER_NOT_ALLOWED",
        "URL_NOT_ALLOWED",
    ):
        assert code in description

    start = paths[START_PATH]["post"]
    assert set(start["responses"]) == {"303", "400", "410"}
    assert "text/html" in start["responses"]["410"]["content"]
    form = start["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert "assessment_cluster_id" in form["properties"]
