"""In Chromium: an operator rotates a partner's webhook secret in the console and the next
delivery verifies with the new secret, and during the grace period with the old one too; and
the customers' token flow with JavaScript off (issued, shown once, revoked)."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from integrations.deliveries import attempt_delivery
from integrations.models import Delivery
from portal.customers.models import ClientToken, Customer
from portal.partners.models import Partner
from portal.roleplays.models import Cluster
from tests.factories import make_exam, sign_in
from tests.integrations.conftest import Partner as Receiver
from tests.integrations.conftest import verifies

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    settings.HTTP_TIMEOUT_SECONDS = 5.0
    server = Receiver()
    yield server
    server.close()


def send_latest_metadata(partner: Partner, receiver) -> object:
    """Send the partner's newest metadata delivery from this process (it shares the live
    server's database) and return what the receiver got."""
    delivery = Delivery.objects.filter(route=f"partner:{partner.pk}:metadata").latest("pk")
    before = len(receiver.received())
    assert attempt_delivery(delivery.pk) == "delivered"
    received = receiver.received()
    assert len(received) == before + 1
    return received[-1]


def test_operator_rotates_the_webhook_secret_and_both_sign_during_the_grace(
    staff_page, portal, operator, receiver
):
    cluster = Cluster.objects.create(
        cluster_id="cl-lead", cluster_name="Leadership", cluster_type="Leadership"
    )
    q3 = Partner.objects.create(name="Q3", base_url=receiver.url(""))
    q3.clusters.add(cluster)
    old = q3.webhook_secret

    page = staff_page(operator)
    page.on("dialog", lambda dialog: dialog.accept())  # htmx's hx-confirm
    page.goto(f"{portal.url}/staff/partners/")
    page.get_by_role("link", name="Q3", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Q3"))).to_be_visible()

    page.locator("#webhook-secret select").select_option(label="1 hour")
    page.get_by_role("button", name="Rotate webhook secret").click()
    shown = page.locator("#new-webhook-secret")
    expect(shown).to_contain_text("The old secret still signs, beside the new one, until")
    new = shown.locator("code").inner_text().strip()
    assert new.startswith("whsec_") and new != old
    expect(page.locator("#messages")).to_contain_text("New webhook secret for Q3.")

    page.get_by_role("button", name="Push cluster metadata now").click()
    expect(page.locator("#messages")).to_contain_text("Metadata of 1 cluster queued for Q3.")
    # The new secret was on the page only until this swap.
    expect(page.locator("#new-webhook-secret")).to_have_count(0)

    received = send_latest_metadata(q3, receiver)
    assert len(received.headers["webhook-signature"].split()) == 2
    assert verifies(new, received) and verifies(old, received)

    # The operator ends the grace period: from now on only the new secret signs.
    page.get_by_role("button", name="End the grace period now").click()
    expect(page.locator("#messages")).to_contain_text("The previous secrets of Q3 no longer work")
    page.get_by_role("button", name="Push cluster metadata now").click()
    expect(page.locator("#messages")).to_contain_text("Metadata of 1 cluster queued for Q3.")
    received = send_latest_metadata(q3, receiver)
    assert verifies(new, received) and not verifies(old, received)


def test_customer_and_token_without_javascript(no_js_page, portal, operator):
    page = sign_in(no_js_page, portal, operator)

    page.goto(f"{portal.url}/staff/customers/")
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Name").fill("Beta School")
    page.get_by_role("button", name="Create customer").click()
    customer = Customer.objects.get(name="Beta School")
    expect(page.locator(".secret-once code")).to_have_text(customer.signing_secret)
    exam = make_exam(customer)

    page.get_by_label("Label").fill("production")
    page.get_by_label("Allowed callback hosts").fill("https://lms.example.com/")
    page.get_by_role("button", name="Issue token").click()
    expect(page.locator(".q-error")).to_contain_text("is not a host name")
    page.get_by_label("Allowed callback hosts").fill("lms.example.com")
    page.get_by_role("button", name="Issue token").click()
    raw = page.locator(".secret-once code").inner_text().strip()
    token = ClientToken.objects.get(label="production")
    assert raw.startswith(token.prefix)
    expect(page.locator(f"#token-{token.pk}")).to_contain_text("lms.example.com")

    api = f"{portal.url}/api/integration/exams/{exam.pk}/"
    assert httpx.get(api, headers={"X-Client-Token": raw}).status_code == 200

    page.reload()  # shown once: a reload no longer has it, nor the signing secret
    expect(page.locator(".secret-once")).to_have_count(0)
    assert raw not in page.content() and customer.signing_secret not in page.content()

    # Without JavaScript, revoking asks on a page of its own.
    page.locator(f"#token-{token.pk}").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("heading")).to_contain_text(f"Revoke the client token {token.prefix}")
    page.get_by_role("button", name="Revoke the token").click()
    expect(page.locator(f"#token-{token.pk} .badge.revoked")).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("no longer authenticates")
    assert httpx.get(api, headers={"X-Client-Token": raw}).status_code == 401
