"""The HubSpot sync through the outbox, against a HubSpot stand-in on 127.0.0.1.

The seed's contact and deal payloads, what "synced"/"pending"/"failed"/"skipped" say,
retries (5xx, 429 with Retry-After, a lost reply), recovery, resync by replay, and never a
second contact or deal.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from integrations.deliveries import (
    attempt_delivery,
    delivery_status,
    delivery_status_by_key,
    replay_delivery,
)
from integrations.hubspot import briefing_deal, enqueue_hubspot_sync, hubspot_configured
from integrations.models import Delivery, DeliveryAttempt

pytestmark = pytest.mark.django_db

Outcome = DeliveryAttempt.Outcome
Status = Delivery.Status

SUBMITTED = datetime(2025, 8, 12, 10, 30, tzinfo=UTC)
CONTACT = {
    "email": "john.doe@acme.example",
    "properties": {
        "firstname": "John",
        "lastname": "Doe",
        "company": "Acme Corp",
        "phone": None,  # not given: left out, never sent as "None"
        "ai_assessment_score": 78,
        "ai_assessment_category": "AI Ready",
        "ai_value_score": 82,
        "ai_customer_score": 75,
        "ai_risk_score": 71,
        "ai_governance_score": 84,
        "ai_assessment_date": date(2025, 8, 12),
        "ai_completion_time": 420,
        "ai_lead_quality": "executive_briefing_qualified",
    },
}
CONTACT_SENT = {
    "email": "john.doe@acme.example",
    "lead_source": "AI Reality Check Scorecard",
    "firstname": "John",
    "lastname": "Doe",
    "company": "Acme Corp",
    "ai_assessment_score": "78",
    "ai_assessment_category": "AI Ready",
    "ai_value_score": "82",
    "ai_customer_score": "75",
    "ai_risk_score": "71",
    "ai_governance_score": "84",
    "ai_assessment_date": "2025-08-12",
    "ai_completion_time": "420",
    "ai_lead_quality": "executive_briefing_qualified",
}


def deal() -> dict:
    return briefing_deal(
        contact_name="John Doe",
        company="Acme Corp",
        score=78,
        assessment_id="assess_789xyz012",
        now=SUBMITTED,
    )


def sync(*, with_deal: bool = True, dedupe_key: str = "hubspot:assess_789xyz012") -> Delivery:
    with transaction.atomic():
        return enqueue_hubspot_sync(
            contact=CONTACT, deal=deal() if with_deal else None, dedupe_key=dedupe_key
        )


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_qualified_lead_upserts_the_contact_and_creates_its_deal(hubspot, queue):
    delivery = sync()
    assert delivery.transport == "hubspot" and delivery.target_url == hubspot.base
    assert delivery.allowed_hosts == ["127.0.0.1"]
    assert delivery_status(delivery) == "pending"

    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    [upsert] = hubspot.bodies("contacts")
    assert upsert == {
        "inputs": [
            {"idProperty": "email", "id": "john.doe@acme.example", "properties": CONTACT_SENT}
        ]
    }
    [contact] = hubspot.contacts.values()
    [create] = hubspot.bodies("deals")
    assert create == {
        "properties": {
            "dealname": "AI Reality Check - John Doe (Acme Corp)",
            "dealstage": "executive_briefing_requested",
            "amount": "5000",
            "pipeline": "ai_consulting_pipeline",
            "closedate": "2025-09-11",  # 30 days after the submission
            "ai_assessment_score": "78",
            "ai_assessment_id": "assess_789xyz012",
        },
        "associations": [
            {
                "to": {"id": contact["id"]},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
            }
        ],
    }
    assert hubspot.bodies("search") == []  # nothing to look for: no create was lost
    for _, headers, _ in hubspot.requests:
        assert headers["Authorization"] == f"Bearer {hubspot.TOKEN}"
        assert headers["Content-Type"] == "application/json"
    [deal_id] = hubspot.deals
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert delivery.state == {
        "contact_id": contact["id"],
        "deal_id": deal_id,
        "deal_requested": True,
    }
    assert delivery_status(delivery) == "synced"
    assert delivery_status_by_key("hubspot:assess_789xyz012") == "synced"
    assert hubspot.TOKEN not in delivery.payload  # the token is read at each attempt


def test_a_lead_that_is_not_qualified_gets_a_contact_and_no_deal(hubspot):
    delivery = sync(with_deal=False)

    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    assert len(hubspot.contacts) == 1 and hubspot.deals == {}
    assert hubspot.bodies("deals") == []


def test_without_a_token_nothing_is_enqueued_and_the_sync_is_skipped(
    hubspot, settings, queue, django_capture_on_commit_callbacks
):
    settings.HUBSPOT_ACCESS_TOKEN = ""
    assert not hubspot_configured()

    with django_capture_on_commit_callbacks(execute=True):
        delivery = sync()

    assert delivery is None and not Delivery.objects.exists()
    assert delivery_status(delivery) == "skipped"
    assert delivery_status_by_key("hubspot:assess_789xyz012") == "skipped"
    assert queue.pending_count() == 0 and hubspot.requests == []


def test_the_same_dedupe_key_records_one_sync(hubspot):
    assert sync().pk == sync().pk
    assert Delivery.objects.count() == 1


def test_a_server_error_is_retried_and_then_syncs(hubspot):
    delivery = sync()
    hubspot.fail("contacts", 500)

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery_status(delivery) == "pending"
    assert delivery.last_error == "HubSpot contact upsert: HTTP 500"
    wait = delivery.next_attempt_at - delivery.attempts.get().started_at
    assert timedelta(seconds=50) <= wait <= timedelta(seconds=75)
    assert hubspot.contacts == {} and hubspot.deals == {}

    make_due(delivery)
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    delivery.refresh_from_db()
    assert delivery_status(delivery) == "synced" and delivery.attempt_count == 2
    assert len(hubspot.contacts) == 1 and len(hubspot.deals) == 1


def test_429_waits_for_retry_after(hubspot):
    delivery = sync()
    hubspot.fail("contacts", 429, headers={"Retry-After": "600"})

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    attempt = delivery.attempts.get()
    assert attempt.status_code == 429 and delivery.last_error == "HubSpot contact upsert: HTTP 429"
    assert delivery.next_attempt_at >= attempt.started_at + timedelta(seconds=600)
    assert attempt_delivery(delivery.pk) == "skipped"  # not before Retry-After
    assert len(hubspot.bodies("contacts")) == 1


def test_a_deal_step_that_fails_after_the_contact_is_retried_without_duplicates(hubspot):
    delivery = sync()
    hubspot.fail("deals", 503)

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.last_error == "HubSpot deal create: HTTP 503"
    [contact] = hubspot.contacts.values()
    assert delivery.state["contact_id"] == contact["id"] and "deal_id" not in delivery.state
    assert hubspot.deals == {}

    make_due(delivery)
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    assert len(hubspot.contacts) == 1 and len(hubspot.deals) == 1
    assert len(hubspot.bodies("contacts")) == 2  # the upsert is idempotent
    [deal_request] = list(hubspot.deals.values())
    assert deal_request["associations"][0]["to"]["id"] == contact["id"]


def test_a_deal_created_whose_reply_was_lost_is_found_not_created_again(hubspot):
    delivery = sync()
    hubspot.lose_reply("deals")

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.last_error.startswith("HubSpot deal create: RemoteProtocolError")
    [deal_id] = hubspot.deals  # HubSpot made it; we never heard
    assert delivery.state["deal_requested"] is True and "deal_id" not in delivery.state

    make_due(delivery)
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    [search] = hubspot.bodies("search")
    assert search["filterGroups"] == [
        {
            "filters": [
                {"propertyName": "ai_assessment_id", "operator": "EQ", "value": "assess_789xyz012"}
            ]
        }
    ]
    assert len(hubspot.deals) == 1 and len(hubspot.bodies("deals")) == 1
    delivery.refresh_from_db()
    assert delivery.state["deal_id"] == deal_id


def test_a_resync_by_replay_updates_the_contact_and_keeps_the_one_deal(hubspot, queue):
    delivery = sync()
    attempt_delivery(delivery.pk)

    assert replay_delivery(delivery)
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    assert len(hubspot.bodies("contacts")) == 2
    assert len(hubspot.contacts) == 1 and len(hubspot.deals) == 1
    assert len(hubspot.bodies("deals")) == 1 and hubspot.bodies("search") == []
    delivery.refresh_from_db()
    assert delivery_status(delivery) == "synced"


def test_a_refused_token_is_dead_at_once_and_a_replay_after_the_fix_syncs(hubspot, settings):
    settings.HUBSPOT_ACCESS_TOKEN = "pat-na1-revoked"
    delivery = sync()

    assert attempt_delivery(delivery.pk) == Outcome.REFUSED

    delivery.refresh_from_db()
    assert delivery.status == Status.DEAD and delivery_status(delivery) == "failed"
    assert delivery.last_error.startswith("HubSpot contact upsert: HTTP 401")
    assert "HUBSPOT_ACCESS_TOKEN" in delivery.last_error
    assert delivery.attempts.get().status_code == 401

    settings.HUBSPOT_ACCESS_TOKEN = hubspot.TOKEN
    assert replay_delivery(delivery)
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED
    assert len(hubspot.contacts) == 1 and len(hubspot.deals) == 1


def test_hubspot_down_is_retried(hubspot, settings, closed_port_url):
    settings.HUBSPOT_API_BASE = closed_port_url.removesuffix("/hook")
    delivery = sync()

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert delivery.last_error.startswith("HubSpot contact upsert: ConnectError")


def test_a_deal_needs_its_unique_assessment_id(hubspot):
    incomplete = deal()
    del incomplete["properties"]["ai_assessment_id"]
    with pytest.raises(ValueError, match="ai_assessment_id"), transaction.atomic():
        enqueue_hubspot_sync(contact=CONTACT, deal=incomplete, dedupe_key="x")


def test_staff_replay_a_dead_sync_from_its_admin_page(hubspot, settings, client):
    from django.contrib.auth.models import User

    settings.HUBSPOT_ACCESS_TOKEN = "pat-na1-revoked"
    delivery = sync()
    attempt_delivery(delivery.pk)
    settings.HUBSPOT_ACCESS_TOKEN = hubspot.TOKEN
    client.force_login(User.objects.create(username="staff", is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:integrations_delivery_change", args=[delivery.pk]))
    assert "HubSpot CRM" in page.content.decode() and "Replay" in page.content.decode()
    client.post(reverse("admin:integrations_delivery_replay", args=[delivery.pk]))

    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED
    page = client.get(reverse("admin:integrations_delivery_change", args=[delivery.pk]))
    assert "contact_id" in page.content.decode()
