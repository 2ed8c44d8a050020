"""Sending deliveries to a real partner server, attempt by attempt.

The success rule, failures, the retry schedule, Retry-After, 410, redirects, every attempt
recorded, a stable webhook-id, and replay.
"""

import contextlib
import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from integrations import http
from integrations.deliveries import (
    MAX_ATTEMPTS,
    RETRY_GAPS,
    attempt_delivery,
    replay_delivery,
)
from integrations.models import Delivery, DeliveryAttempt
from integrations.transports import webhook
from integrations.transports.base import retry_after_delay

pytestmark = pytest.mark.django_db

Outcome = DeliveryAttempt.Outcome
Status = Delivery.Status


def assert_next_attempt_in(delivery: Delivery, low: timedelta, high: timedelta) -> None:
    delivery.refresh_from_db()
    wait = delivery.next_attempt_at - delivery.attempts.last().started_at
    assert low <= wait <= high + timedelta(seconds=5), wait


def test_a_2xx_with_success_true_is_delivered_signed_with_the_exact_bytes(
    partner, make_delivery, outbound, secret
):
    delivery = make_delivery(partner.url("/ok"))

    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempt_count == 1
    assert delivery.delivered_at and delivery.next_attempt_at is None
    assert delivery.locked_until is None and delivery.last_error == ""
    [received] = partner.received()
    assert received.body == delivery.payload.encode()
    assert json.loads(received.body)["user_name"] == "Jóhn Doe"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"].startswith("AssessmentPortal-Webhooks/")
    assert received.headers["webhook-id"] == str(delivery.webhook_id)
    # What a partner writes to check it, with the reference library:
    assert Webhook(secret).verify(received.body, received.headers)["user_id"] == "EMP_789"
    [attempt] = delivery.attempts.all()
    assert attempt.outcome == Outcome.DELIVERED and attempt.status_code == 200
    assert json.loads(attempt.response_excerpt)["success"] is True
    assert attempt.duration_ms is not None and attempt.error == ""


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/error", "HTTP 500"),
        ("/refused", 'HTTP 200 without "success": true'),
        ("/plain", 'HTTP 200 without "success": true'),
        ("/redirect", "HTTP 302 redirect to 'http://127.0.0.1:"),
        ("/nowhere", "HTTP 404"),
    ],
)
def test_anything_but_2xx_and_success_true_is_retried_in_a_minute(
    path, error, partner, make_delivery, outbound
):
    delivery = make_delivery(partner.url(path))

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempt_count == 1
    assert delivery.last_error.startswith(error) and delivery.locked_until is None
    assert_next_attempt_in(delivery, timedelta(seconds=54), timedelta(seconds=66))
    [attempt] = delivery.attempts.all()
    assert attempt.outcome == Outcome.FAILED and attempt.error == delivery.last_error
    assert [r.path for r in partner.received()] == [path]  # the redirect was not followed


def test_a_plain_2xx_is_enough_when_no_success_flag_is_required(partner, make_delivery, outbound):
    delivery = make_delivery(partner.url("/plain"), require_success_flag=False)
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED


def test_a_slow_partner_times_out(partner, make_delivery, outbound):
    outbound.HTTP_TIMEOUT_SECONDS = 0.3
    partner.slow_seconds = 1.0
    delivery = make_delivery(partner.url("/slow"))

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Timed out (ReadTimeout, 0.3 s)")
    assert delivery.attempts.get().duration_ms < 1000


def test_a_partner_that_is_down_is_retried(closed_port_url, make_delivery, outbound):
    delivery = make_delivery(closed_port_url)

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert delivery.last_error.startswith("ConnectError")


@pytest.fixture
def raw_server() -> Iterator[Callable[[bytes], str]]:
    """A server that reads each request and sends `reply` as it is (nothing: it hangs up);
    returns its URL."""
    listeners: list[socket.socket] = []

    def start(reply: bytes) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            with contextlib.suppress(OSError):
                while True:
                    connection, _ = listener.accept()
                    with connection:
                        connection.recv(65536)
                        connection.sendall(reply)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/hook"

    yield start
    for listener in listeners:
        listener.close()


def gzip_reply(body: bytes) -> bytes:
    packed = gzip.compress(body)
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(packed)
    ) + packed


def test_a_partner_that_hangs_up_without_a_reply_is_retried(raw_server, make_delivery, outbound):
    delivery = make_delivery(raw_server(b""))

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert delivery.last_error.startswith("RemoteProtocolError: Server disconnected")


def test_a_reply_holding_control_characters_is_recorded_shown_and_retried(
    raw_server, make_delivery, make_due, outbound
):
    """PostgreSQL refuses a NUL in text: an attempt whose reply held one could not be
    recorded, stayed "sending" and crashed again on every retry. The reply's control
    characters are kept as U+FFFD; tabs and line breaks stay."""
    body = b"broken\x00reply\x07\tline\nnext"
    reply = (
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    ) + body
    delivery = make_delivery(raw_server(reply))

    for attempt_number in (1, 2):
        assert attempt_delivery(delivery.pk) == Outcome.FAILED
        delivery.refresh_from_db()
        assert delivery.status == Status.PENDING and delivery.locked_until is None
        assert delivery.attempt_count == attempt_number
        make_due(delivery)

    attempts = list(delivery.attempts.order_by("pk"))
    assert [a.outcome for a in attempts] == [Outcome.FAILED, Outcome.FAILED]
    assert {a.status_code for a in attempts} == {500}
    assert {a.response_excerpt for a in attempts} == {"broken\ufffdreply\ufffd\tline\nnext"}
    assert "\x00" not in delivery.last_error and "\x00" not in attempts[0].error


def test_a_reply_compressed_though_asked_for_none_is_read_decoded(
    raw_server, make_delivery, outbound
):
    """We ask for an unencoded reply (Accept-Encoding: identity); a partner that gzips it
    anyway is still understood, and a reply that unpacks into megabytes is cut at the body
    limit rather than held whole."""
    delivery = make_delivery(raw_server(gzip_reply(b'{"success": true}')))
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    bomb = http.post(raw_server(gzip_reply(b" " * 50_000_000)), content=b"{}", headers={})
    assert bomb.status_code == 200 and len(bomb.body) == http.MAX_BODY_BYTES


def test_retry_after_seconds_on_429_is_honoured(partner, make_delivery, outbound):
    delivery = make_delivery(partner.url("/busy"))  # Retry-After: 600

    attempt_delivery(delivery.pk)

    assert_next_attempt_in(delivery, timedelta(seconds=600), timedelta(seconds=601))


def test_retry_after_as_an_http_date_on_503_is_honoured(partner, make_delivery, outbound):
    delivery = make_delivery(partner.url("/unavailable"))  # Retry-After: two hours from now

    attempt_delivery(delivery.pk)

    assert_next_attempt_in(delivery, timedelta(minutes=119), timedelta(minutes=120))


def test_retry_after_is_capped_at_a_day_and_ignored_when_unreadable():
    now = timezone.now()
    assert retry_after_delay("5") == timedelta(seconds=5)
    assert retry_after_delay("31536000") == timedelta(hours=24)
    assert retry_after_delay("Wed, 21 Oct 2015 07:28:00 GMT", now) == timedelta(0)
    assert retry_after_delay("soon") is None
    assert retry_after_delay("") is None
    assert retry_after_delay(None) is None


def test_410_gone_stops_at_once(partner, make_delivery, outbound):
    delivery = make_delivery(partner.url("/gone"))

    assert attempt_delivery(delivery.pk) == Outcome.REFUSED

    delivery.refresh_from_db()
    assert delivery.status == Status.DEAD and delivery.next_attempt_at is None
    assert "410 Gone" in delivery.last_error


def test_eight_attempts_on_the_schedule_then_dead(partner, make_delivery, make_due, outbound):
    delivery = make_delivery(partner.url("/error"))
    waits = []
    for number in range(1, MAX_ATTEMPTS + 1):
        assert attempt_delivery(delivery.pk) == Outcome.FAILED
        delivery.refresh_from_db()
        assert delivery.attempt_count == number
        if number < MAX_ATTEMPTS:
            assert delivery.status == Status.PENDING
            # Not due yet: a task that runs early sends nothing.
            assert attempt_delivery(delivery.pk) == "skipped"
            waits.append(delivery.next_attempt_at - delivery.attempts.last().started_at)
            make_due(delivery)

    assert delivery.status == Status.DEAD and delivery.next_attempt_at is None
    assert delivery.last_error == "HTTP 500 (gave up after 8 attempts)"
    assert attempt_delivery(delivery.pk) == "skipped"
    for wait, gap in zip(waits, RETRY_GAPS, strict=True):
        assert gap * 0.9 <= wait <= gap * 1.1 + timedelta(seconds=5), (wait, gap)
    assert [a.outcome for a in delivery.attempts.all()] == [Outcome.FAILED] * MAX_ATTEMPTS
    assert all(a.status_code == 500 for a in delivery.attempts.all())
    # One message, eight tries: the same id and bytes each time, each freshly signed.
    received = partner.received()
    assert len(received) == MAX_ATTEMPTS
    assert {r.headers["webhook-id"] for r in received} == {str(delivery.webhook_id)}
    assert {r.body for r in received} == {delivery.payload.encode()}


def test_the_documented_schedule_spans_a_day():
    at, offsets = timedelta(0), []
    for gap in RETRY_GAPS:
        at += gap
        offsets.append(at)
    assert len(RETRY_GAPS) == MAX_ATTEMPTS - 1
    assert offsets == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
        timedelta(hours=12),
        timedelta(hours=24),
    ]


def test_a_flaky_partner_gets_it_on_the_third_attempt_with_the_same_id(
    partner, make_delivery, make_due, outbound, secret
):
    partner.flaky_failures = 2
    delivery = make_delivery(partner.url("/flaky"))

    for _ in range(3):
        attempt_delivery(delivery.pk)
        make_due(delivery)

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempt_count == 3
    assert [a.outcome for a in delivery.attempts.all()] == ["failed", "failed", "delivered"]
    received = partner.received()
    assert len({r.headers["webhook-id"] for r in received}) == 1
    for request in received:
        Webhook(secret).verify(request.body, request.headers)


def test_a_failed_attempt_schedules_its_retry_when_the_transaction_commits(
    partner, make_delivery, outbound, queue, django_capture_on_commit_callbacks
):
    delivery = make_delivery(partner.url("/error"))
    queue.flush()

    with django_capture_on_commit_callbacks(execute=True):
        attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    [task] = queue.pending()
    assert task.name.endswith("deliver") and task.args == (delivery.pk,)
    assert abs(task.eta - delivery.next_attempt_at.replace(tzinfo=None)) < timedelta(seconds=1)


def test_a_claimed_delivery_is_not_sent_by_a_second_worker(partner, make_delivery, outbound):
    delivery = make_delivery(partner.url("/ok"))
    Delivery.objects.filter(pk=delivery.pk).update(
        locked_until=timezone.now() + timedelta(seconds=30)
    )

    assert attempt_delivery(delivery.pk) == "skipped"
    assert partner.received() == []


def test_an_attempt_cut_short_by_a_dead_worker_shows_as_interrupted(
    partner, make_delivery, outbound
):
    delivery = make_delivery(partner.url("/ok"))
    # What a worker killed mid-send leaves: its claim (now expired) and an attempt "sending".
    Delivery.objects.filter(pk=delivery.pk).update(
        attempt_count=1, locked_until=timezone.now() - timedelta(seconds=1)
    )
    DeliveryAttempt.objects.create(delivery=delivery)

    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    assert [a.outcome for a in delivery.attempts.all()] == ["interrupted", "delivered"]
    delivery.refresh_from_db()
    assert delivery.attempt_count == 2


def test_an_unexpected_error_is_recorded_and_retried(partner, make_delivery, outbound, monkeypatch):
    def broken(delivery):
        raise RuntimeError("bug")

    monkeypatch.setattr(webhook, "send", broken)
    delivery = make_delivery(partner.url("/ok"))

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.locked_until is None
    assert delivery.last_error == "Internal error: RuntimeError('bug')"


@pytest.mark.parametrize("path", ["/ok", "/gone"])
def test_replay_sends_the_same_message_again(
    path, partner, make_delivery, outbound, queue, django_capture_on_commit_callbacks
):
    delivery = make_delivery(partner.url(path))
    attempt_delivery(delivery.pk)
    webhook_id = delivery.webhook_id
    queue.flush()

    with django_capture_on_commit_callbacks(execute=True):
        assert replay_delivery(delivery)

    assert delivery.status == Status.PENDING and delivery.attempt_count == 0
    assert delivery.next_attempt_at <= timezone.now() and delivery.webhook_id == webhook_id
    assert [task.args for task in queue.pending()] == [(delivery.pk,)]
    attempt_delivery(delivery.pk)
    first, second = partner.received()
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(webhook_id)
    assert first.body == second.body
    assert delivery.attempts.count() == 2


def test_a_pending_delivery_is_not_replayed(partner, make_delivery, outbound):
    delivery = make_delivery(partner.url("/error"))
    assert not replay_delivery(delivery)
    attempt_delivery(delivery.pk)
    assert not replay_delivery(delivery)
