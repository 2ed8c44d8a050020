"""Rotating a partner's webhook secret: during the grace period each delivery carries two
signatures and verifies with either secret; after it, only with the new one. Verified as the
partner would (`standardwebhooks`), over real HTTP to a receiver on 127.0.0.1."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from integrations import signing
from integrations.deliveries import attempt_delivery, replay_delivery
from integrations.models import Delivery
from portal.audit.models import AuditEntry
from portal.partners import secrets
from portal.partners.models import Partner
from portal.roleplays import services
from tests.factories import make_cluster
from tests.integrations.conftest import verifies

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_member(db) -> User:
    return User.objects.create(username="ops", is_staff=True, is_superuser=True)


@pytest.fixture
def world(outbound, partner):
    """A cluster, and its partner Q3 whose base URL is the loopback receiver."""
    cluster, q3, _ = make_cluster(partner_hosts="127.0.0.1", base_url=partner.url(""))
    return cluster, q3


def sent_metadata(cluster, q3: Partner, receiver) -> tuple[Delivery, object]:
    """Queue the cluster's metadata for q3 and send it; the request the receiver got."""
    with transaction.atomic():
        services.push_cluster_metadata(cluster, [q3])
    delivery = Delivery.objects.filter(kind="cluster_metadata_sync").latest("pk")
    return delivery, send(delivery, receiver)


def send(delivery: Delivery, receiver):
    before = len(receiver.received())
    attempt_delivery(delivery.pk)
    received = receiver.received()
    assert len(received) == before + 1
    return received[-1]


def test_during_the_grace_period_both_secrets_verify_then_only_the_new(
    world, partner, staff_member
):
    cluster, q3 = world
    old = q3.webhook_secret

    new = secrets.partner_rotate_webhook_secret(partner=q3, actor=staff_member)

    assert new != old and new.startswith("whsec_")
    q3.refresh_from_db()
    assert q3.webhook_secret == new and q3.webhook_secrets == (new, old)
    assert q3.webhook_grace_ends_at - timezone.now() > timedelta(hours=23)
    delivery, received = sent_metadata(cluster, q3, partner)
    assert len(received.headers["webhook-signature"].split()) == 2
    assert verifies(new, received) and verifies(old, received)
    assert signing.verify(old, received.headers, received.body)

    # The grace period is over (the clock is ours: the expiry moves into the past).
    Partner.objects.filter(pk=q3.pk).update(
        previous_webhook_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert replay_delivery(delivery)
    again = send(delivery, partner)
    assert len(again.headers["webhook-signature"].split()) == 1
    assert verifies(new, again) and not verifies(old, again)


def test_a_delivery_queued_before_the_rotation_is_signed_with_the_new_secret(
    world, partner, staff_member
):
    cluster, q3 = world
    old = q3.webhook_secret
    with transaction.atomic():
        services.push_cluster_metadata(cluster, [q3])
    queued = Delivery.objects.get(kind="cluster_metadata_sync")

    new = secrets.partner_rotate_webhook_secret(partner=q3, actor=staff_member, grace=timedelta(0))
    received = send(queued, partner)

    assert verifies(new, received) and not verifies(old, received)


def test_ending_the_grace_period_stops_the_old_secret_now(world, partner, staff_member):
    cluster, q3 = world
    old = q3.webhook_secret
    new = secrets.partner_rotate_webhook_secret(
        partner=q3, actor=staff_member, grace=timedelta(days=7)
    )

    secrets.partner_end_grace(partner=q3, actor=staff_member)

    assert q3.webhook_secrets == (new,) and q3.webhook_grace_ends_at is None
    _, received = sent_metadata(cluster, q3, partner)
    assert verifies(new, received) and not verifies(old, received)


def test_the_audit_log_says_who_rotated_when_and_the_grace_but_no_secret(world, staff_member):
    _, q3 = world
    old = q3.webhook_secret

    new = secrets.partner_rotate_webhook_secret(
        partner=q3, actor=staff_member, grace=timedelta(hours=1)
    )
    secrets.partner_end_grace(partner=q3, actor=staff_member)

    rotated, ended = AuditEntry.objects.order_by("pk")
    assert (rotated.action, rotated.actor, rotated.target_id) == (
        "partner.rotate_webhook_secret",
        staff_member,
        str(q3.pk),
    )
    assert set(rotated.changes) >= {"webhook_secret", "previous_webhook_secret"}
    assert rotated.changes["webhook_grace_ends_at"][0] is None
    assert rotated.changes["webhook_grace_ends_at"][1].startswith(
        str(timezone.now().year)
    )  # when the old one stops is shown
    assert ended.action == "partner.end_grace"
    logged = json.dumps([rotated.changes, ended.changes, rotated.note, ended.note])
    assert old not in logged and new not in logged
    assert old.removeprefix("whsec_") not in logged and new.removeprefix("whsec_") not in logged


def test_a_negative_grace_is_refused_and_nothing_changes(world, staff_member):
    _, q3 = world
    old = q3.webhook_secret
    with pytest.raises(ValueError):
        secrets.partner_rotate_webhook_secret(
            partner=q3, actor=staff_member, grace=timedelta(hours=-1)
        )
    q3.refresh_from_db()
    assert q3.webhook_secret == old and not AuditEntry.objects.exists()


def test_the_admin_action_rotates_through_the_service_with_the_default_grace(
    world, client, staff_member
):
    _, q3 = world
    old = q3.webhook_secret
    client.force_login(staff_member)

    response = client.post(
        reverse("admin:partners_partner_changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [q3.pk]},
        follow=True,
    )

    assert response.status_code == 200 and "24 hours" in response.text
    q3.refresh_from_db()
    assert q3.webhook_secret != old and q3.webhook_secrets == (q3.webhook_secret, old)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor) == ("partner.rotate_webhook_secret", staff_member)
    change = client.get(reverse("admin:partners_partner_change", args=[q3.pk])).text
    assert "previous webhook secret works until" in change
    assert old not in change, "the previous secret is never shown"


def test_several_signatures_in_one_header():
    first, second = signing.new_webhook_secret(), signing.new_webhook_secret()
    headers = signing.webhook_headers(
        webhook_id="msg_1", body=b"{}", secrets=(first, second), timestamp=1_700_000_000
    )
    signatures = headers["webhook-signature"].split(" ")
    assert signatures == [
        signing.sign(first, "msg_1", 1_700_000_000, b"{}"),
        signing.sign(second, "msg_1", 1_700_000_000, b"{}"),
    ]
    # The one-secret form is unchanged; a repeated secret signs once; none: no signature.
    assert signing.webhook_headers(
        webhook_id="msg_1", body=b"{}", secret=first, timestamp=1_700_000_000
    ) == signing.webhook_headers(
        webhook_id="msg_1", body=b"{}", secrets=(first, first), timestamp=1_700_000_000
    )
    assert "webhook-signature" not in signing.webhook_headers(webhook_id="m", body=b"")
