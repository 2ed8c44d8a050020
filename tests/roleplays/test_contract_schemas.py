"""What we accept and answer on the launch endpoint validates against the published schemas."""

import time

import jwt
import pytest

from portal.roleplays import schemas
from portal.sandbox.q3 import mint_token
from tests.factories import make_cluster

pytestmark = pytest.mark.django_db
LAUNCH = "/api/integration/assessment-launch"


@pytest.fixture
def launch_body():
    cluster, partner, _ = make_cluster(partner_hosts="127.0.0.1")
    token = mint_token(partner.jwt_secret, user_id="EMP_789", cluster_id=cluster.cluster_id)
    return {
        "user_id": "EMP_789",
        "user_name": "johndoe",
        "assessment_cluster_id": cluster.cluster_id,
        "auth_token": token,
        "return_url": "http://127.0.0.1/dashboard",
        "results_url": "http://127.0.0.1/api/receive-assessment-results",
    }, partner


def test_the_sandbox_request_and_our_success_reply_follow_the_schemas(client, launch_body):
    body, _ = launch_body
    schemas.validate("assessment_launch_request", body)
    schemas.validate(
        "assessment_launch_request#auth_token_claims",
        jwt.decode(body["auth_token"], options={"verify_signature": False}),
    )
    response = client.post(LAUNCH, body, content_type="application/json")
    assert response.status_code == 200, response.content
    schemas.validate("assessment_launch_request#success_response", response.json())


def expired(body, partner):
    now = int(time.time()) - 3600
    claims = {
        "user_id": "EMP_789",
        "assessment_cluster_id": body["assessment_cluster_id"],
        "iat": now,
        "exp": now + 600,
    }
    return body | {"auth_token": jwt.encode(claims, partner.jwt_secret, algorithm="HS256")}


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (lambda b, p: b | {"auth_token": "not.a.jwt"}, 401, "INVALID_TOKEN"),
        (expired, 401, "TOKEN_EXPIRED"),
        (lambda b, p: b | {"user_id": "EMP_000"}, 403, "CLAIMS_MISMATCH"),
        (lambda b, p: {k: v for k, v in b.items() if k != "return_url"}, 422, "INVALID_REQUEST"),
        (lambda b, p: b | {"return_url": "https://evil.example.net/"}, 400, "URL_NOT_ALLOWED"),
    ],
)
def test_every_error_reply_follows_the_error_schema(client, launch_body, change, status, code):
    body, partner = launch_body
    response = client.post(LAUNCH, change(body, partner), content_type="application/json")
    assert (response.status_code, response.json()["error_code"]) == (status, code)
    schemas.validate("assessment_launch_errors", response.json())


def test_a_body_that_is_not_json_gets_a_schema_valid_error(client):
    response = client.post(LAUNCH, "{oops", content_type="application/json")
    assert response.status_code == 422
    schemas.validate("assessment_launch_errors", response.json())


def test_a_used_token_spelled_with_padding_is_still_a_replay(client, launch_body):
    body, _ = launch_body
    assert client.post(LAUNCH, body, content_type="application/json").status_code == 200
    padded = body | {"auth_token": body["auth_token"] + "="}
    response = client.post(LAUNCH, padded, content_type="application/json")
    assert (response.status_code, response.json()["error_code"]) == (401, "TOKEN_REPLAYED")
