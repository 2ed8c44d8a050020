"""The launch token (seed 000, DESIGN §4): what a forged, stale, replayed or mismatched JWT
gets, and that a refused launch creates nothing. The partner is Q3; the candidate EMP_789."""

import base64
import json
import secrets
import time
import warnings

import httpx
import pytest

from portal.partners.models import Partner
from portal.roleplays.models import Assessment, LaunchTicket, UsedToken

LAUNCH_PATH = "/api/integration/assessment-launch"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, claims: dict, signature: bytes = b"") -> str:
    """A JWT assembled by hand, for algorithms PyJWT will not sign with here."""
    parts = (json.dumps(header).encode(), json.dumps(claims).encode())
    return ".".join([*(b64(part) for part in parts), b64(signature)])


def fresh_claims(**changes) -> dict:
    now = int(time.time())
    claims = {"user_id": "EMP_789", "assessment_cluster_id": "b4bf406c-4f9", "iat": now}
    return claims | {"exp": now + 600} | changes


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert body["error_code"] == code
    assert body["detail"]
    assert set(body) == {"success", "error_code", "detail"}
    return body


def assert_nothing_created() -> None:
    counts = (Assessment.objects.count(), LaunchTicket.objects.count(), UsedToken.objects.count())
    assert counts == (0, 0, 0)


def test_a_valid_token_is_accepted(partner, mint, launch, launch_body):
    """The baseline the attacks below are measured against."""
    response = launch(launch_body(mint()))
    assert response.status_code == 200, response.content
    assert Assessment.objects.get().partner == partner
    assert UsedToken.objects.count() == 1


# --- forged tokens ----------------------------------------------------------------------------


def test_alg_none_is_refused(partner, launch, launch_body):
    token = hand_made({"alg": "none", "typ": "JWT"}, fresh_claims())
    body = refused(launch(launch_body(token)), 401, "INVALID_TOKEN")
    assert "HS256" in body["detail"]
    assert_nothing_created()


def test_hs512_is_refused_even_with_the_right_secret(partner, mint, launch, launch_body):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT wants 64 bytes for HS512; beside the point
        token = mint(algorithm="HS512")
    assert "HS256" in refused(launch(launch_body(token)), 401, "INVALID_TOKEN")["detail"]
    assert_nothing_created()


def test_rs256_is_refused(partner, launch, launch_body):
    # `cryptography` is not installed, so the RS256 token is assembled by hand: the header is
    # what matters, the portal must refuse the algorithm before looking at the signature.
    token = hand_made({"alg": "RS256", "typ": "JWT"}, fresh_claims(), secrets.token_bytes(256))
    refused(launch(launch_body(token)), 401, "INVALID_TOKEN")
    assert_nothing_created()


def test_hs256_header_with_a_signature_made_by_hand_of_garbage_is_refused(
    partner, launch, launch_body
):
    token = hand_made({"alg": "HS256", "typ": "JWT"}, fresh_claims(), secrets.token_bytes(32))
    refused(launch(launch_body(token)), 401, "INVALID_TOKEN")
    assert_nothing_created()


def test_a_token_signed_with_another_secret_is_refused(partner, mint, launch, launch_body):
    token = mint(secret="not-q3s-secret-but-long-enough-0123456789")
    refused(launch(launch_body(token)), 401, "INVALID_TOKEN")
    assert_nothing_created()


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30", "é.é.é"])
def test_a_malformed_token_is_refused(partner, launch, launch_body, token):
    refused(launch(launch_body(token)), 401, "INVALID_TOKEN")
    assert_nothing_created()


def test_a_short_partner_secret_is_never_used(partner, mint, launch, launch_body):
    short = "sixteen-byte-key"
    Partner.objects.filter(pk=partner.pk).update(jwt_secret=short)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about the short key, which is the point
        token = mint(secret=short)
    refused(launch(launch_body(token)), 401, "INVALID_TOKEN")
    assert_nothing_created()


def test_an_inactive_partners_token_is_refused(partner, mint, launch, launch_body):
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    refused(launch(launch_body(mint())), 401, "INVALID_TOKEN")
    assert_nothing_created()


def test_without_its_own_secret_a_partner_signs_with_q3_integration_secret(
    partner, mint, launch, launch_body, settings
):
    settings.Q3_INTEGRATION_SECRET = "the-environment-secret-0123456789abcdefgh"
    Partner.objects.filter(pk=partner.pk).update(jwt_secret="")
    refused(launch(launch_body(mint())), 401, "INVALID_TOKEN")  # Q3's old secret: no more
    response = launch(launch_body(mint(secret=settings.Q3_INTEGRATION_SECRET)))
    assert response.status_code == 200, response.content
    assert Assessment.objects.get().partner == partner


# --- time -------------------------------------------------------------------------------------


def test_an_expired_token_is_refused(partner, mint, launch, launch_body):
    token = mint(iat=int(time.time()) - 20 * 60)  # 15-minute lifetime: expired 5 minutes ago
    refused(launch(launch_body(token)), 401, "TOKEN_EXPIRED")
    assert_nothing_created()


def test_a_token_expired_within_the_leeway_is_accepted(partner, mint, launch, launch_body):
    token = mint(iat=int(time.time()) - 15 * 60 - 10)  # expired 10 s ago; leeway is 30 s
    assert launch(launch_body(token)).status_code == 200


def test_a_token_issued_in_the_future_is_refused(partner, mint, launch, launch_body):
    token = mint(iat=int(time.time()) + 120, lifetime=600)
    refused(launch(launch_body(token)), 401, "INVALID_TOKEN")
    assert_nothing_created()


def test_clock_skew_within_the_leeway_is_accepted(partner, mint, launch, launch_body):
    token = mint(iat=int(time.time()) + 10, lifetime=600)
    assert launch(launch_body(token)).status_code == 200


def test_a_lifetime_over_15_minutes_is_refused(partner, mint, launch, launch_body):
    refused(launch(launch_body(mint(lifetime=15 * 60 + 1))), 401, "INVALID_TOKEN")
    assert_nothing_created()


def test_a_lifetime_of_exactly_15_minutes_is_accepted(partner, mint, launch, launch_body):
    assert launch(launch_body(mint(lifetime=15 * 60))).status_code == 200


def test_exp_before_iat_is_refused(partner, mint, launch, launch_body):
    now = int(time.time())
    refused(launch(launch_body(mint(iat=now, exp=now - 1))), 401, "INVALID_TOKEN")
    assert_nothing_created()


@pytest.mark.parametrize(
    "claims",
    [
        lambda now: {"iat": str(now), "exp": str(now + 600)},
        lambda now: {"iat": now, "exp": True},  # PyJWT alone reads it as 1: "expired"
    ],
    ids=["text", "true"],
)
def test_iat_and_exp_must_be_numbers(partner, mint, launch, launch_body, claims):
    token = mint(**claims(int(time.time())))
    body = refused(launch(launch_body(token)), 401, "INVALID_TOKEN")
    assert "iat and exp must be numbers" in body["detail"]
    assert_nothing_created()


@pytest.mark.parametrize("claim", ["exp", "iat", "user_id", "assessment_cluster_id"])
def test_a_token_missing_a_required_claim_is_refused(partner, mint, launch, launch_body, claim):
    body = refused(launch(launch_body(mint(without=(claim,)))), 401, "INVALID_TOKEN")
    assert claim in body["detail"]
    assert_nothing_created()


# --- claims against the body ------------------------------------------------------------------


def test_a_token_of_another_user_is_refused(partner, mint, launch, launch_body):
    body = refused(launch(launch_body(mint(user_id="EMP_001"))), 403, "CLAIMS_MISMATCH")
    assert "user_id" in body["detail"]
    assert_nothing_created()


def test_a_token_for_another_cluster_is_refused(partner, mint, launch, launch_body, make_cluster):
    partner.clusters.add(make_cluster("c0ffee00-123", cluster_name="Sales"))
    token = mint(assessment_cluster_id="c0ffee00-123")
    body = refused(launch(launch_body(token)), 403, "CLAIMS_MISMATCH")
    assert "assessment_cluster_id" in body["detail"]
    assert_nothing_created()


# --- which partner, which cluster -------------------------------------------------------------


def test_the_partner_is_the_one_whose_secret_verifies(
    partner, other_partner, cluster, mint, launch, launch_body
):
    other_partner.clusters.add(cluster)
    response = launch(
        launch_body(
            mint(secret=other_partner.jwt_secret),
            return_url="https://other.example.org/home",
            results_url="https://other.example.org/results",
        )
    )
    assert response.status_code == 200, response.content
    assert Assessment.objects.get().partner == other_partner


def test_of_partners_sharing_a_secret_the_one_the_cluster_is_open_to_is_chosen(
    partner, other_partner, cluster, mint, launch, launch_body
):
    # Both sign with Q3's secret (e.g. both use Q3_INTEGRATION_SECRET); Q3 comes first by id.
    Partner.objects.filter(pk=other_partner.pk).update(jwt_secret=partner.jwt_secret)
    partner.clusters.remove(cluster)
    other_partner.clusters.add(cluster)
    body = launch_body(mint(), return_url="https://other.example.org/", results_url=None)
    assert launch(body).status_code == 200
    assert Assessment.objects.get().partner == other_partner


def test_a_cluster_not_open_to_the_partner_is_refused(
    partner, other_partner, mint, launch, launch_body
):
    body = launch_body(
        mint(secret=other_partner.jwt_secret), return_url="https://other.example.org/"
    )
    refused(launch(body), 403, "CLUSTER_NOT_ALLOWED")
    assert_nothing_created()


def test_an_unknown_cluster_is_not_found(partner, mint, launch, launch_body):
    token = mint(assessment_cluster_id="deadbeef-000")
    body = launch_body(token, assessment_cluster_id="deadbeef-000")
    refused(launch(body), 404, "CLUSTER_NOT_FOUND")
    assert_nothing_created()


def test_an_inactive_cluster_is_not_found(partner, cluster, mint, launch, launch_body):
    cluster.is_active = False
    cluster.save()
    refused(launch(launch_body(mint())), 404, "CLUSTER_NOT_FOUND")
    assert_nothing_created()


def test_clusters_are_not_told_to_a_caller_without_a_valid_token(
    partner, mint, launch, launch_body
):
    token = mint(secret="not-q3s-secret-but-long-enough-0123456789", assessment_cluster_id="nope")
    refused(launch(launch_body(token, assessment_cluster_id="nope")), 401, "INVALID_TOKEN")


# --- once only --------------------------------------------------------------------------------


def test_a_replayed_token_is_refused(partner, mint, launch, launch_body):
    body = launch_body(mint())
    assert launch(body).status_code == 200
    refused(launch(body), 401, "TOKEN_REPLAYED")
    assert (Assessment.objects.count(), LaunchTicket.objects.count()) == (1, 1)
    assert UsedToken.objects.count() == 1


def test_a_refused_launch_does_not_spend_the_token(partner, mint, launch, launch_body):
    token = mint()
    refused(
        launch(launch_body(token, return_url="https://evil.example.net/")), 400, "URL_NOT_ALLOWED"
    )
    assert launch(launch_body(token)).status_code == 200


REPLAYS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_let_exactly_one_through(
    live_server, settings, partner, mint, launch_body, together
):
    settings.PUBLIC_BASE_URL = live_server.url
    body = launch_body(mint())

    def replay(_: int) -> httpx.Response:
        return httpx.post(f"{live_server.url}{LAUNCH_PATH}", json=body, timeout=30)

    results = together(REPLAYS, replay)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [401] * (REPLAYS - 1), [r.text for r in results]
    codes = {r.json()["error_code"] for r in results if r.status_code == 401}
    assert codes == {"TOKEN_REPLAYED"}
    assert (Assessment.objects.count(), LaunchTicket.objects.count()) == (1, 1)
    assert UsedToken.objects.count() == 1
