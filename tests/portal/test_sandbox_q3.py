"""The sandbox Q3 receivers: signed, schema-checked, processed once per webhook-id."""

import json
import time

import pytest

from integrations import signing
from portal.sandbox.models import Q3Account, ReceivedWebhook
from tests.factories import results_payload

pytestmark = pytest.mark.django_db

METADATA = {
    "cluster_id": "b4bf406c-4f9",
    "cluster_name": "Customer Leadership Assessment",
    "cluster_type": "Leadership",
    "number_of_roleplays": 1,
    "roleplays": [
        {
            "roleplay_id": "rp-1",
            "roleplay_name": "Escalated Customer Complaint",
            "total_time_minutes": 20,
            "competencies": [{"id": "CUST_FOCUS", "name": "Customer Focus", "max_score": 10}],
        }
    ],
}
RESULTS = results_payload()


@pytest.fixture
def account():
    return Q3Account.objects.create(
        pk=1,
        partner_name="Demo Q3",
        jwt_secret="j" * 48,
        webhook_secret=signing.new_webhook_secret(),
        cluster_ids=["b4bf406c-4f9"],
    )


def post(client, path, payload, secret, webhook_id="msg_1"):
    body = json.dumps(payload).encode()
    headers = signing.webhook_headers(webhook_id=webhook_id, body=body, secret=secret)
    return client.post(
        path,
        body,
        content_type="application/json",
        headers=headers,
    )


def test_metadata_is_acknowledged_as_the_seed_says(client, account):
    response = post(
        client, "/sandbox/q3/api/receive-cluster-metadata", METADATA, account.webhook_secret
    )
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "cluster_id": "b4bf406c-4f9",
        "message": "Cluster metadata received successfully",
    }
    assert "Customer Leadership Assessment" in client.get("/sandbox/q3/").text


def test_results_are_acknowledged_once_per_webhook_id(client, account):
    for _ in range(2):  # a retry carries the same webhook-id
        response = post(
            client, "/sandbox/q3/api/receive-assessment-results", RESULTS, account.webhook_secret
        )
        assert response.json() == {
            "success": True,
            "user_id": "EMP_789",
            "cluster_id": "b4bf406c-4f9",
            "message": "Results received successfully",
        }
    assert ReceivedWebhook.objects.filter(kind="results_submission").count() == 1
    assert "Customer Focus: 7/10" in client.get("/sandbox/q3/").text


def test_a_forged_signature_is_refused(client, account):
    response = post(
        client, "/sandbox/q3/api/receive-assessment-results", RESULTS, signing.new_webhook_secret()
    )
    assert response.status_code == 401 and response.json()["success"] is False
    assert not ReceivedWebhook.objects.exists()


def test_a_payload_off_the_schema_gets_the_seed_error_reply(client, account):
    bad = RESULTS | {"roleplays": [RESULTS["roleplays"][0] | {"stakeholders": "2"}]}
    response = post(
        client, "/sandbox/q3/api/receive-assessment-results", bad, account.webhook_secret
    )
    assert response.status_code == 400
    assert response.json()["success"] is False and "detail" in response.json()


def test_an_invalid_metadata_post_does_not_break_the_dashboard(client, account):
    post(
        client,
        "/sandbox/q3/api/receive-cluster-metadata",
        {"cluster_id": 1},
        account.webhook_secret,
    )
    assert client.get("/sandbox/q3/").status_code == 200


def test_two_launches_in_the_same_second_are_both_accepted(client, monkeypatch):
    """A double click on "Attempt assessment": each click mints its own token (a `jti`), so
    the second launch is not refused as TOKEN_REPLAYED."""
    from portal.sandbox import q3
    from tests.factories import make_cluster

    cluster, partner, _ = make_cluster(partner_hosts="127.0.0.1")
    this_second = int(time.time())
    monkeypatch.setattr(q3.time, "time", lambda: this_second + 0.25)  # both clicks in it
    tokens = [
        q3.mint_token(partner.jwt_secret, user_id="EMP_789", cluster_id=cluster.cluster_id)
        for _ in range(2)
    ]
    monkeypatch.undo()
    assert tokens[0] != tokens[1]
    for token in tokens:
        response = client.post(
            "/api/integration/assessment-launch",
            {
                "user_id": "EMP_789",
                "user_name": "johndoe",
                "assessment_cluster_id": cluster.cluster_id,
                "auth_token": token,
                "return_url": "http://127.0.0.1/dashboard",
            },
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
