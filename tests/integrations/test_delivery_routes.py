"""A partner's deliveries follow its settings of the moment they are sent: a fixed base URL or
AIO_CALLBACK_URL reaches deliveries already queued and replays; a results_url the launch named
stays. Over real HTTP to receivers on 127.0.0.1, verified as the partner would
(`standardwebhooks`)."""

import time
from datetime import timedelta

import jwt
import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from integrations import routes
from integrations.deliveries import attempt_delivery, replay_delivery, send_now
from integrations.models import Delivery
from portal.partners.models import (
    METADATA_PATH,
    ROUTE_METADATA,
    ROUTE_RESULTS,
    ROUTE_URL,
    Partner,
    resolve_route,
)
from portal.roleplays import launch, services
from tests.factories import make_cluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(outbound, closed_port_url):
    """A cluster, and its partner Q3 whose base URL points at a port where nobody listens."""
    base_url = closed_port_url.removesuffix("/hook")
    cluster, q3, _ = make_cluster(partner_hosts="127.0.0.1", base_url=base_url)
    return cluster, q3


def push_metadata(cluster, partner: Partner) -> Delivery:
    with transaction.atomic():
        services.push_cluster_metadata(cluster, [partner])
    return Delivery.objects.get(kind="cluster_metadata_sync")


def verified(received, secret: str) -> dict:
    """The body, verified with `secret` by the reference library (raises if it does not)."""
    return Webhook(secret).verify(received.body, received.headers)


def mint(partner: Partner, user_id: str) -> str:
    now = int(time.time())
    claims = {
        "user_id": user_id,
        "assessment_cluster_id": "test-cl-001",
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, partner.jwt_secret, algorithm="HS256")


def launched(partner: Partner, user_id: str, user_name: str, **urls: str):
    """`user_id` launched into test-cl-001 by `partner` (`urls`: return_url, results_url)."""
    return launch.assessment_launch(
        user_id=user_id,
        user_name=user_name,
        assessment_cluster_id="test-cl-001",
        auth_token=mint(partner, user_id),
        **urls,
    ).assessment


def test_a_queued_delivery_goes_to_the_url_the_partner_fixed_and_the_attempt_says_where(
    world, receivers, make_due
):
    cluster, q3 = world
    dead_url = q3.metadata_url()
    delivery = push_metadata(cluster, q3)
    assert delivery.route == f"partner:{q3.pk}:metadata"

    assert attempt_delivery(delivery.pk) == "failed"  # nobody listens there
    fixed = receivers()
    q3.base_url = fixed.url("")
    q3.save()
    make_due(delivery)
    assert attempt_delivery(delivery.pk) == "delivered"

    [received] = fixed.received()
    assert received.path == METADATA_PATH
    assert verified(received, q3.webhook_secret)["cluster_id"] == "test-cl-001"
    delivery.refresh_from_db()
    first, second = delivery.attempts.all()
    assert (first.target_url, first.outcome) == (dead_url, "failed")
    assert (second.target_url, second.outcome) == (fixed.url(METADATA_PATH), "delivered")
    assert delivery.target_url == fixed.url(METADATA_PATH), "lists show where it goes now"


def test_send_now_of_a_delivery_waiting_to_retry_follows_the_fix(world, receivers):
    cluster, q3 = world
    delivery = push_metadata(cluster, q3)
    attempt_delivery(delivery.pk)  # fails; the next try is a minute away
    fixed = receivers()
    Partner.objects.filter(pk=q3.pk).update(base_url=fixed.url(""))

    assert send_now(delivery)
    assert attempt_delivery(delivery.pk) == "delivered"
    assert [r.path for r in fixed.received()] == [METADATA_PATH]


def test_a_replay_after_the_partner_moved_goes_to_the_new_url(world, receivers):
    cluster, q3 = world
    old, new = receivers(), receivers()
    q3.base_url = old.url("")
    q3.save()
    delivery = push_metadata(cluster, q3)
    assert attempt_delivery(delivery.pk) == "delivered"

    q3.base_url = new.url("")
    q3.save()
    assert replay_delivery(delivery)
    assert attempt_delivery(delivery.pk) == "delivered"

    assert len(old.received()) == 1
    [replayed] = new.received()
    assert replayed.headers["webhook-id"] == old.received()[0].headers["webhook-id"]
    assert replayed.body == old.received()[0].body
    assert [a.target_url for a in delivery.attempts.all()] == [
        old.url(METADATA_PATH),
        new.url(METADATA_PATH),
    ]


def test_results_follow_the_partner_default_unless_the_launch_named_a_results_url(world, receivers):
    cluster, q3 = world
    named, before, after = receivers(), receivers(), receivers()
    q3.base_url = named.url("")
    q3.aio_callback_url = before.url("/hooks/results")
    q3.save()
    dashboard = named.url("/dashboard")
    explicit = launched(
        q3, "EMP_1", "One", return_url=dashboard, results_url=named.url("/hooks/results")
    )
    default = launched(q3, "EMP_2", "Two", return_url=dashboard)
    assert (explicit.results_url_is_default, default.results_url_is_default) == (False, True)
    assert default.results_url == before.url("/hooks/results")
    for assessment in (explicit, default):
        services.complete_assessment(assessment)

    # The partner fixes its AIO_CALLBACK_URL before the results go out.
    q3.aio_callback_url = after.url("/hooks/results")
    q3.save()
    results = Delivery.objects.filter(kind="results_submission")
    for delivery in results:
        assert attempt_delivery(delivery.pk) == "delivered"

    assert {verified(r, q3.webhook_secret)["user_id"] for r in named.received()} == {"EMP_1"}
    assert {verified(r, q3.webhook_secret)["user_id"] for r in after.received()} == {"EMP_2"}
    assert before.received() == []
    assert {d.route for d in results} == {f"partner:{q3.pk}:url", f"partner:{q3.pk}:results"}


def test_without_a_route_unknown_or_gone_the_stored_target_is_used(world, secret):
    cluster, q3 = world
    gone = Partner.objects.create(name="Gone", base_url="https://gone.example.com")
    stored = {
        "kind": "cluster_metadata_sync",
        "target_url": "https://stored.example.com/hook",
        "payload": {"a": 1},
        "signing_secret": secret,
        "allowed_hosts": ["stored.example.com"],
    }
    with transaction.atomic():
        plain = Delivery.objects.create(**stored, route="")
        unknown = Delivery.objects.create(**stored, route="nobody:1:metadata")
        orphan = Delivery.objects.create(**stored, route=f"partner:{gone.pk}:metadata")
        followed = Delivery.objects.create(**stored, route=f"partner:{q3.pk}:metadata")
    gone.delete()

    expected = routes.Route("https://stored.example.com/hook", (secret,), ("stored.example.com",))
    for delivery in (plain, unknown, orphan):
        assert routes.resolve(delivery) == expected
    assert routes.resolve(followed) == routes.Route(
        q3.metadata_url(), (q3.webhook_secret,), tuple(q3.hosts)
    )


def test_the_console_finds_a_partners_deliveries_by_route_prefix(world):
    cluster, q3 = world
    other = Partner.objects.create(name="Other", base_url="https://other.example.org")
    # Ids that share leading digits must not match each other's prefix.
    Partner.objects.filter(pk=other.pk).update(id=int(f"{q3.pk}1"))
    other = Partner.objects.get(name="Other")
    cluster.partners.add(other)
    with transaction.atomic():
        services.push_cluster_metadata(cluster, [q3, other])

    mine = Delivery.objects.filter(route__startswith=f"partner:{q3.pk}:")
    assert [d.target_url for d in mine] == [q3.metadata_url()]
    assert Delivery.objects.filter(route__startswith=f"partner:{other.pk}:").count() == 1


def test_route_strings_have_three_parts():
    assert routes.make("partner", 7, "results") == "partner:7:results"
    with pytest.raises(ValueError):
        routes.register("part:ner", lambda *args: None)
    with pytest.raises(ValueError):
        Partner(pk=3).route("elsewhere")


def test_a_partners_route_is_read_in_one_statement_and_is_what_its_model_says(
    world, secret, django_assert_num_queries
):
    """Every attempt reads its partner's route with one prepared statement (and what that row
    makes is kept per process): the URLs, hosts and secrets are the model's own, every field
    they use read, none left to fetch later."""
    cluster, q3 = world
    Partner.objects.filter(pk=q3.pk).update(
        aio_callback_url="https://hooks.example.org/results",
        allowed_hosts="extra.example.com, other.example.net",
        previous_webhook_secret=secret,
        previous_webhook_secret_expires_at=timezone.now() + timedelta(hours=1),
    )
    q3 = Partner.objects.get(pk=q3.pk)
    stored = Delivery(target_url="https://named.example.com/hook", route="")
    expected = {
        ROUTE_METADATA: q3.metadata_url(),
        ROUTE_RESULTS: q3.default_results_url(),
        ROUTE_URL: "https://named.example.com/hook",
    }

    for target, url in expected.items():
        with django_assert_num_queries(1):
            route = resolve_route(str(q3.pk), target, stored)
        assert route == routes.Route(url, q3.webhook_secrets, tuple(q3.hosts))
    assert len(route.secrets) == 2 and len(route.allowed_hosts) == 4


def test_a_kept_route_stops_signing_with_the_previous_secret_when_its_grace_ends(
    world, secret, monkeypatch
):
    cluster, q3 = world
    ends = timezone.now() + timedelta(minutes=5)
    Partner.objects.filter(pk=q3.pk).update(
        previous_webhook_secret=secret, previous_webhook_secret_expires_at=ends
    )
    assert resolve_route(str(q3.pk), ROUTE_METADATA, None).secrets == (q3.webhook_secret, secret)

    later = ends + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the same row, read again
    assert resolve_route(str(q3.pk), ROUTE_METADATA, None).secrets == (q3.webhook_secret,)
