"""Groups of deliveries: a newer one of the same kind, route and group key supersedes the older
ones, so a retry never delivers stale data (e.g. older cluster metadata) after fresh."""

import json

import pytest
from django.db import connection, transaction

from integrations import deliveries
from integrations.deliveries import (
    attempt_delivery,
    delivery_status,
    enqueue_delivery,
    replay_delivery,
    send_now,
    sweep_deliveries,
)
from integrations.models import Delivery

pytestmark = pytest.mark.django_db

Status = Delivery.Status
ROUTE = "partner:7:metadata"


def metadata(url: str, version: int, **fields) -> Delivery:
    """Cluster metadata (version `version`) queued for partner 7, as the roleplays app does."""
    options = {
        "kind": "cluster_metadata_sync",
        "target_url": url,
        "payload": {"cluster_id": "b4bf406c-4f9", "version": version},
        "route": ROUTE,
        "group_key": "cluster:b4bf406c-4f9",
    } | fields
    with transaction.atomic():
        return enqueue_delivery(**options)


def versions(partner, path: str | None = None) -> list[int]:
    return [json.loads(r.body)["version"] for r in partner.received(path)]


def reload(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def test_a_failed_older_delivery_is_not_retried_after_a_newer_one(
    partner, make_due, outbound, queue
):
    old = metadata(partner.url("/error"), 1)
    assert attempt_delivery(old.pk) == "failed"  # the partner was down: a retry is scheduled
    new = metadata(partner.url("/ok"), 2)

    old = reload(old)
    assert old.status == Status.SUPERSEDED and old.superseded_by_id == new.pk
    assert (
        old.last_error
        == f"Superseded by #{new.pk}, a newer cluster_metadata_sync of the same group."
    )
    assert old.next_attempt_at is None and delivery_status(old) == "superseded"

    assert attempt_delivery(new.pk) == "delivered"
    make_due(old)  # the older one's retry comes round: it is never sent
    assert attempt_delivery(old.pk) == "skipped"
    assert sweep_deliveries() == 0
    assert versions(partner) == [1, 2], "the older one's first, failed attempt, then the newer"
    assert reload(old).status == Status.SUPERSEDED


def test_only_the_same_kind_route_and_group_are_superseded(partner, outbound):
    url = partner.url("/ok")
    kept = [
        metadata(url, 1, group_key="cluster:another"),
        metadata(url, 1, route="partner:8:metadata"),
        metadata(url, 1, kind="results_submission"),
        metadata(url, 1, group_key=""),
    ]
    older = metadata(url, 1)
    newest = metadata(url, 2)
    assert reload(older).status == Status.SUPERSEDED
    assert reload(older).superseded_by_id == newest.pk
    assert [reload(d).status for d in kept] == [Status.PENDING] * 4
    assert reload(newest).status == Status.PENDING


def test_no_group_key_supersedes_nothing(partner, outbound):
    first = metadata(partner.url("/ok"), 1, group_key="")
    metadata(partner.url("/ok"), 2, group_key="")
    assert reload(first).status == Status.PENDING


def test_a_delivery_superseded_after_its_worker_claimed_it_is_not_sent(partner, outbound, queue):
    """The worker checks under its claim: superseded between the claim and the sending, it
    gives the claim back and sends nothing; the newer one is then sent."""
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL claims and writes the attempt row in one statement: no gap")
    old = metadata(partner.url("/ok"), 1)
    newer = []

    def a_newer_one_is_queued_right_after_the_claim(execute, sql, params, many, context):
        # Before the statement that follows the claim: the attempt row, written under it.
        if sql.startswith("INSERT") and "deliveryattempt" in sql and not newer:
            newer.append(None)
            newer[0] = metadata(partner.url("/ok"), 2)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(a_newer_one_is_queued_right_after_the_claim):
        assert attempt_delivery(old.pk) == "superseded"
    assert newer, "the race happened"

    old = reload(old)
    assert old.status == Status.SUPERSEDED and old.locked_until is None
    assert old.attempt_count == 0 and not old.attempts.exists(), "no attempt was made"
    assert partner.received() == []
    assert attempt_delivery(newer[0].pk) == "delivered"
    assert versions(partner) == [2]


@pytest.mark.parametrize(
    ("path", "status", "sent"),
    [("/error", Status.SUPERSEDED, [1, 2]), ("/ok", Status.DELIVERED, [1, 2])],
)
def test_a_newer_delivery_waits_for_an_older_one_being_sent(
    partner, outbound, monkeypatch, django_capture_on_commit_callbacks, path, status, sent
):
    """Superseded while its worker was already sending it: that attempt finishes first (the
    newer one can't be claimed meanwhile), and a failed one is never retried."""
    old = metadata(partner.url(path), 1)
    real_dispatch = deliveries.dispatch
    newer = []

    def dispatch_while_a_newer_one_is_queued(delivery):
        newer.append(metadata(partner.url("/ok"), 2))
        assert attempt_delivery(newer[0].pk) == "skipped", "waits for the older one"
        return real_dispatch(delivery)

    monkeypatch.setattr(deliveries, "dispatch", dispatch_while_a_newer_one_is_queued)
    with django_capture_on_commit_callbacks(execute=True) as woken:
        attempt_delivery(old.pk)
    monkeypatch.undo()

    old = reload(old)
    assert old.status == status and old.locked_until is None and old.next_attempt_at is None
    assert old.superseded_by_id == newer[0].pk
    # The newer one's task: queued with it, and again once the older one's attempt ended.
    tasks = [c.args for c in woken if getattr(c, "func", None) is deliveries.enqueue_task]
    assert tasks == [(newer[0].pk,), (newer[0].pk,)]
    assert attempt_delivery(newer[0].pk) == "delivered"
    assert versions(partner) == sent
    assert attempt_delivery(old.pk) == "skipped"


def test_an_older_delivered_or_dead_delivery_is_not_replayed_after_a_newer_one(partner, outbound):
    delivered = metadata(partner.url("/ok"), 1)
    assert attempt_delivery(delivered.pk) == "delivered"
    dead = metadata(partner.url("/gone"), 2)
    assert attempt_delivery(dead.pk) == "refused"
    newest = metadata(partner.url("/ok"), 3)
    assert attempt_delivery(newest.pk) == "delivered"

    assert reload(delivered).superseded_by_id == dead.pk
    assert reload(dead).superseded_by_id == newest.pk
    for older in (delivered, dead):
        assert not replay_delivery(older)
        assert not send_now(older)
        assert reload(older).status in (Status.DELIVERED, Status.DEAD)
    assert replay_delivery(newest)
    assert attempt_delivery(newest.pk) == "delivered"
    assert versions(partner) == [1, 2, 3, 3]


@pytest.mark.django_db(transaction=True)
def test_with_two_real_workers_the_partner_gets_the_older_then_the_newer(partner, outbound):
    """PostgreSQL, two workers: one is sending the older delivery (the partner holds the
    request) when the newer is queued; the other worker can't claim the newer until the older
    is done, so the partner never gets the older after the newer."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections: PostgreSQL")
    partner.hang_first.set()
    old = metadata(partner.url("/hang"), 1)
    outcomes = []

    def first_worker():
        try:
            outcomes.append(attempt_delivery(old.pk))
        finally:
            connection.close()

    worker = threading.Thread(target=first_worker)
    worker.start()
    assert partner.first_request.wait(10)
    new = metadata(partner.url("/hang"), 2)
    assert reload(old).status == Status.SUPERSEDED
    assert attempt_delivery(new.pk) == "skipped", "the older one is still being sent"
    partner.release.set()
    worker.join(timeout=30)
    assert outcomes == ["delivered"]
    assert attempt_delivery(new.pk) == "delivered"
    assert versions(partner) == [1, 2]
    assert reload(old).status == Status.DELIVERED
