"""What makes deliveries fast without loosening a rule: connections and the SSL context are
shared per process (a connection only for the same host name at the same checked address),
the sweep doesn't queue again what is already queued, and an attempt's statements are few."""

import socket
import threading
from datetime import timedelta

import httpx
import pytest
from django.db import connection, transaction
from django.utils import timezone

from integrations import http
from integrations.deliveries import TASK_LEASE, attempt_delivery, enqueue_task, sweep_deliveries
from integrations.models import Delivery
from portal.partners.models import ROUTE_RESULTS, Partner
from tests.receivers import WebhookReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    """A receiver that keeps connections open and tells which one each request came on."""
    server = WebhookReceiver(keep_alive=True)
    yield server
    server.close()


@pytest.fixture
def loopback_names(monkeypatch):
    """a.partner.test and b.partner.test both resolve to 127.0.0.1."""
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host in ("a.partner.test", "b.partner.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_deliveries_to_one_receiver_reuse_one_connection(receiver, make_delivery, outbound):
    first = make_delivery(f"http://127.0.0.1:{receiver.port}/hook")
    second = make_delivery(f"http://127.0.0.1:{receiver.port}/hook")

    assert attempt_delivery(first.pk) == "delivered"
    assert attempt_delivery(second.pk) == "delivered"

    assert len(receiver.requests) == 2 and receiver.connections() == 1


def test_a_connection_is_reused_only_for_the_same_host_name(receiver, loopback_names, outbound):
    """Two names at one address: each gets its own connection (for https, its own SNI and
    certificate check), and each request still carries its own Host."""
    for name in ("a.partner.test", "b.partner.test", "a.partner.test"):
        response = http.post(f"http://{name}:{receiver.port}/hook", content=b"{}", headers={})
        assert response.status_code == 200 and response.address == "127.0.0.1"

    hosts = [headers["Host"] for _path, headers, _body in receiver.requests]
    [(a1, host1), (b, host2), (a2, host3)] = zip(receiver.client_ports, hosts, strict=True)
    assert a1 == a2 != b
    assert [host1, host2, host3] == [
        f"{name}:{receiver.port}" for name in ("a.partner.test", "b.partner.test", "a.partner.test")
    ]


def test_the_ssl_context_is_made_once_per_process(receiver, loopback_names, outbound, monkeypatch):
    made = []
    real = httpx.create_ssl_context
    monkeypatch.setattr(http, "_ssl_context", None)
    monkeypatch.setattr(httpx, "create_ssl_context", lambda **kw: made.append(1) or real(**kw))

    for name in ("a.partner.test", "b.partner.test"):  # two clients
        http.post(f"http://{name}:{receiver.port}/hook", content=b"{}", headers={})

    assert made == [1]


class CookieSetter(WebhookReceiver):
    """A receiver whose every reply sets a cookie."""

    def __init__(self) -> None:
        super().__init__(keep_alive=True)
        handler_class = self._server.RequestHandlerClass
        plain = handler_class.end_headers

        def end_headers(handler) -> None:
            handler.send_header("Set-Cookie", "session=partner-a; Path=/")
            plain(handler)

        handler_class.end_headers = end_headers


def test_a_cookie_one_reply_sets_is_never_sent_back(outbound):
    """Sent without a client (its transport has no cookie jar): what one partner's reply sets
    never rides along with the next delivery, to it or to anyone."""
    server = CookieSetter()
    try:
        for _ in range(2):
            response = http.post(f"{server.base_url}/hook", content=b"{}", headers={})
            assert response.headers["set-cookie"].startswith("session=")
        assert [headers.get("Cookie") for _path, headers, _body in server.requests] == [None] * 2
        assert server.connections() == 1
    finally:
        server.close()


def test_a_refused_address_is_still_refused_with_a_connection_open(receiver, outbound):
    http.post(f"http://127.0.0.1:{receiver.port}/hook", content=b"{}", headers={})
    outbound.OUTBOUND_ALLOW_LOOPBACK = False

    with pytest.raises(http.UnsafeURL, match="loopback"):
        http.post(f"http://127.0.0.1:{receiver.port}/hook", content=b"{}", headers={})
    assert len(receiver.requests) == 1


class TestSweep:
    def test_a_queued_task_is_not_queued_again_a_lost_one_is(self, queue, make_delivery):
        now = timezone.now()
        waiting, lost, failed, retry = (
            make_delivery(f"https://q3.example.com/{name}")
            for name in ("waiting", "lost", "failed", "retry")
        )
        queue.flush()
        # Queued longer ago than the lease without a worker taking it: lost.
        Delivery.objects.filter(pk=lost.pk).update(queued_at=now - TASK_LEASE)
        # Its enqueue failed (Redis down): nothing is queued.
        Delivery.objects.filter(pk=failed.pk).update(queued_at=None)
        # A retry whose scheduled task became ready a moment ago: the scheduler has it.
        Delivery.objects.filter(pk=retry.pk).update(
            next_attempt_at=now - timedelta(seconds=1), queued_at=now - timedelta(seconds=1)
        )

        assert sweep_deliveries() == 2
        assert sorted(task.args for task in queue.pending()) == [(lost.pk,), (failed.pk,)]
        # Now queued: the next sweeps leave them (and the waiting one) alone.
        assert sweep_deliveries() == 0
        assert Delivery.objects.get(pk=waiting.pk).queued_at is not None

    def test_a_task_that_cannot_be_enqueued_leaves_the_delivery_to_the_sweep(
        self, queue, make_delivery, monkeypatch
    ):
        delivery = make_delivery("https://q3.example.com/hook")
        queue.flush()

        def down(*args, **kwargs):
            raise ConnectionError("Redis is down")

        monkeypatch.setattr(queue, "enqueue", down)
        assert enqueue_task(delivery.pk) is False
        monkeypatch.undo()

        assert Delivery.objects.get(pk=delivery.pk).queued_at is None
        assert sweep_deliveries() == 1

    def test_a_claim_takes_the_task_and_a_retry_schedules_the_next(
        self, queue, make_delivery, closed_port_url, outbound, django_capture_on_commit_callbacks
    ):
        delivery = make_delivery(closed_port_url)
        with django_capture_on_commit_callbacks(execute=True):
            assert attempt_delivery(delivery.pk) == "failed"

        delivery.refresh_from_db()
        assert delivery.queued_at == delivery.next_attempt_at > timezone.now()
        [retry] = queue.pending()  # the consumer puts it on its schedule, for its eta
        assert retry.args == (delivery.pk,) and retry.eta is not None


class TestStatements:
    """The statements of one attempt, pinned (inside the test's transaction, so the ending's
    transaction on SQLite shows as a SAVEPOINT and its RELEASE)."""

    def test_a_first_attempt(self, receiver, make_delivery, outbound, django_assert_num_queries):
        delivery = make_delivery(f"http://127.0.0.1:{receiver.port}/hook")

        # On PostgreSQL the claim and the attempt row (one statement), and the ending (one).
        # On SQLite the claim (UPDATE … RETURNING the row), the attempt INSERT, and the
        # ending: SAVEPOINT, attempt UPDATE, delivery UPDATE, RELEASE. No "interrupted"
        # UPDATE on SQLite: a first attempt can't have left one sending.
        with django_assert_num_queries(2 if connection.vendor == "postgresql" else 6):
            assert attempt_delivery(delivery.pk) == "delivered"

    def test_a_retry(
        self,
        make_delivery,
        make_due,
        closed_port_url,
        outbound,
        receiver,
        django_assert_num_queries,
    ):
        delivery = make_delivery(closed_port_url)
        assert attempt_delivery(delivery.pk) == "failed"
        Delivery.objects.filter(pk=delivery.pk).update(
            target_url=f"http://127.0.0.1:{receiver.port}/hook"
        )
        make_due(delivery)

        # The same, and the UPDATE marking "interrupted" any attempt a dead worker left
        # sending: part of the claim's statement on PostgreSQL, one more on SQLite.
        with django_assert_num_queries(2 if connection.vendor == "postgresql" else 7):
            assert attempt_delivery(delivery.pk) == "delivered"

    def test_a_routed_delivery_reads_its_partner_in_one_statement(
        self, receiver, make_delivery, outbound, django_assert_num_queries
    ):
        partner = Partner.objects.create(
            name="Q3", base_url=f"http://127.0.0.1:{receiver.port}", allowed_hosts="127.0.0.1"
        )
        deliveries = [
            make_delivery(partner.default_results_url(), route=partner.route(ROUTE_RESULTS))
            for _ in range(2)
        ]

        # On PostgreSQL the partner's row is read by the claim's statement (routes.OwnerRow);
        # on SQLite by one statement of its own.
        for delivery in deliveries:  # the second from what the first one's read made
            with django_assert_num_queries(2 if connection.vendor == "postgresql" else 7):
                assert attempt_delivery(delivery.pk) == "delivered"
        assert len(receiver.requests) == 2

    def test_a_route_to_a_gone_or_unnumbered_owner_goes_to_the_stored_target(
        self, receiver, make_delivery, outbound
    ):
        gone = Partner.objects.create(name="Gone", base_url="http://gone.example.com")
        target = f"http://127.0.0.1:{receiver.port}/hook"
        deliveries = [
            make_delivery(target, route=f"partner:{gone.pk}:results"),
            make_delivery(target, route="partner:seven:results"),
            make_delivery(target, route=f"partner:{10**30}:results"),
        ]
        gone.delete()
        for delivery in deliveries:
            assert attempt_delivery(delivery.pk) == "delivered"
        assert len(receiver.requests) == 3

    def test_a_duplicate_task_is_one_statement(
        self, receiver, make_delivery, outbound, django_assert_num_queries
    ):
        delivery = make_delivery(f"http://127.0.0.1:{receiver.port}/hook")
        with transaction.atomic():
            Delivery.objects.filter(pk=delivery.pk).update(
                locked_until=timezone.now() + timedelta(minutes=1)
            )
        with django_assert_num_queries(1):
            assert attempt_delivery(delivery.pk) == "skipped"


class TestQueue:
    """The queue skips what the portal never uses (revocation) and commits without an fsync."""

    def test_revoking_a_task_is_refused_not_silently_ignored(self):
        from huey.contrib.djhuey import HUEY

        from integrations.tasks import deliver

        with pytest.raises(NotImplementedError, match="does not revoke"):
            HUEY.revoke_by_id("some-task-id")
        with pytest.raises(NotImplementedError):
            deliver.revoke()
        assert HUEY.is_revoked(deliver.s(1)) is False

    def test_the_sqlite_queue_commits_without_an_fsync_each(self, tmp_path):
        from portal.queue import PortalSqliteHuey

        queue = PortalSqliteHuey("t", filename=str(tmp_path / "q.sqlite3"))
        connection = queue.storage.conn
        assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert connection.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL

    def test_the_sqlite_queue_hands_out_each_task_once_in_order(self, tmp_path):
        """One statement takes a task: highest priority first, then oldest; two consumers on
        one file, each with several threads, never get the same task."""
        from portal.queue import PortalSqliteHuey

        path = str(tmp_path / "q.sqlite3")
        one, other = PortalSqliteHuey("t", filename=path), PortalSqliteHuey("t", filename=path)
        for name, priority in [(b"first", 0), (b"second", 0), (b"urgent", 5)]:
            one.storage.enqueue(name, priority)
        taken = [queue.storage.dequeue() for queue in (one, other, one, other)]
        assert [bytes(t) if t is not None else None for t in taken] == [
            b"urgent",
            b"first",
            b"second",
            None,
        ]

        sent = [str(n).encode() for n in range(300)]
        for data in sent:
            one.storage.enqueue(data)
        got: list[bytes] = []

        def drain(queue) -> None:
            while (data := queue.storage.dequeue()) is not None:
                got.append(bytes(data))

        workers = [threading.Thread(target=drain, args=(q,)) for q in (one, other) * 3]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(got) == sorted(sent)
