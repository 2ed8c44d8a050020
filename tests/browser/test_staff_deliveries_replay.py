"""An operator replays a dead delivery in Chromium and watches it delivered: a real Huey consumer
sends it, over real HTTP, to a receiver on 127.0.0.1 — to the address the partner has now, not
the one the delivery was first queued for. Once with JavaScript, once without."""

import json
import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations import signing
from integrations.models import Delivery, DeliveryAttempt
from portal.partners.models import RESULTS_PATH, Partner
from tests.factories import free_port, sign_in_without_javascript
from tests.receivers import WebhookReceiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dead_delivery(receiver):
    """Results that died at the partner's old address; the partner has fixed its URL since."""
    partner = Partner.objects.create(name="Q3 HR", base_url=receiver.base_url)
    old_url = f"http://127.0.0.1:{free_port()}{RESULTS_PATH}"  # nothing listens there
    delivery = Delivery.objects.create(
        kind="results_submission",
        target_url=old_url,
        route=f"partner:{partner.pk}:results",
        payload=json.dumps({"user_id": "EMP_789", "cluster_id": "b4bf406c-4f9"}),
        signing_secret=partner.webhook_secret,
        status=Delivery.Status.DEAD,
        attempt_count=8,
        next_attempt_at=None,
        last_error="ConnectError: connection refused (gave up after 8 attempts)",
    )
    DeliveryAttempt.objects.create(
        delivery=delivery,
        started_at=timezone.now(),
        target_url=old_url,
        outcome=DeliveryAttempt.Outcome.FAILED,
        error="ConnectError: connection refused",
        duration_ms=3,
    )
    return delivery, partner


def assert_received_signed(receiver: WebhookReceiver, delivery: Delivery, partner: Partner) -> None:
    [(path, headers, body)] = receiver.wait_for(1)
    assert path == RESULTS_PATH
    assert headers["webhook-id"] == str(delivery.webhook_id)
    assert signing.verify(partner.webhook_secret, headers, body)
    assert json.loads(body)["user_id"] == "EMP_789"


@pytest.mark.usefixtures("huey_consumer")
def test_operator_replays_a_dead_delivery_and_sees_it_delivered(
    staff_page, operator, dead_delivery, receiver
):
    delivery, partner = dead_delivery
    page = staff_page(operator)
    page.get_by_role("link", name="Deliveries", exact=True).click()
    page.get_by_role("combobox", name="State").select_option("dead")
    row = page.locator("#results tbody tr", has_text="results_submission")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("dead")
    expect(row).to_contain_text("Q3 HR")
    row.get_by_role("link", name="results_submission").click()
    page.wait_for_url(re.compile(rf"/staff/deliveries/{delivery.pk}/$"))
    expect(page.locator("#delivery-state")).to_have_text("dead")
    expect(page.locator("#delivery-destination")).to_have_text(receiver.base_url + RESULTS_PATH)

    page.get_by_role("button", name="Replay", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Replayed: it is being sent again.")
    # The consumer sends it; the page polls until it says so, without a reload.
    expect(page.locator("#delivery-state")).to_have_text("delivered", timeout=45_000)
    expect(page.locator("tr.attempt").first.locator(".badge")).to_have_text("delivered")
    expect(page.locator("tr.attempt").first).to_contain_text(receiver.base_url + RESULTS_PATH)
    # Still the same page (a reload would have cleared the message): the polling did it.
    expect(page.locator("#messages")).to_contain_text("Replayed")
    assert_received_signed(receiver, delivery, partner)


@pytest.mark.usefixtures("huey_consumer")
def test_replay_without_javascript_posts_and_shows_the_message(
    chromium, portal, operator, dead_delivery, receiver
):
    delivery, partner = dead_delivery
    context, page = sign_in_without_javascript(chromium, portal, operator)
    try:
        page.goto(f"{portal.url}/staff/deliveries/?state=dead")
        page.get_by_role("link", name="results_submission").click()
        expect(page.locator("#delivery-state")).to_have_text("dead")
        page.get_by_role("button", name="Replay", exact=True).click()
        # The plain form posted; the redirect back shows what happened.
        page.wait_for_url(f"{portal.url}/staff/deliveries/{delivery.pk}/")
        expect(page.locator("#messages")).to_have_text("Replayed: it is being sent again.")
        assert_received_signed(receiver, delivery, partner)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page.reload()
            if page.locator("#delivery-state").inner_text() == "delivered":
                break
            time.sleep(0.5)
        expect(page.locator("#delivery-state")).to_have_text("delivered")
        expect(page.locator("#messages")).to_have_text("")  # shown once, then gone
    finally:
        context.close()


def test_bulk_replay_confirms_inline_then_reports(staff_page, operator, dead_delivery):
    delivery, partner = dead_delivery
    Delivery.objects.create(
        kind="results_submission",
        target_url=partner.default_results_url(),
        route=f"partner:{partner.pk}:results",
        payload="{}",
    )
    page = staff_page(operator)
    page.goto(page.url + f"deliveries/?partner={partner.pk}")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Replay these…").click()
    confirm = page.locator("#replay-confirm")
    expect(confirm).to_contain_text("1 delivery will be replayed")
    expect(confirm).to_contain_text("1 pending delivery is left alone")
    assert page.url.endswith(f"/staff/deliveries/?partner={partner.pk}")  # still the list
    confirm.get_by_role("button", name="Replay 1 delivery").click()
    expect(page.locator("#messages")).to_have_text("Replayed 1; 1 still pending left alone.")
    expect(page.locator("#results .badge.dead")).to_have_count(0)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING


def test_a_refused_bulk_replay_says_why_in_the_page(staff_page, operator, dead_delivery):
    """A refusal shows where the confirmation would have been. It was answered 400, which
    htmx does not swap, so the click seemed to do nothing; htmx now gets its partial with a
    200, as the console's other refusals."""
    delivery, partner = dead_delivery
    page = staff_page(operator)
    page.goto(page.url + f"deliveries/?partner={partner.pk}")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    Partner.objects.filter(pk=partner.pk).delete()  # meanwhile, in another tab: the filter fails
    page.get_by_role("button", name="Replay these…").click()
    refusal = page.locator("#refused")
    expect(refusal).to_contain_text("A filter is not valid: nothing was replayed.")
    expect(refusal.get_by_role("link", name="Back to the list")).to_be_visible()
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.DEAD
