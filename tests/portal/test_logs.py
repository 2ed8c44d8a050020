"""Logs an operator can use: one line per request with its route, never its path's secrets;
JSON lines on demand; the consumer's lines once each."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest

from portal.logformat import JsonFormatter
from portal.request_id import RequestIdFilter
from tests.factories import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_one_line_per_request_with_route_status_and_request_id(client, caplog, exam, token):
    caplog.set_level(logging.INFO, logger="portal.request")
    launch_id = "0f3c2f9e-6b5e-4c1e-9d1a-0123456789ab"
    response = client.get(f"/api/launch/{launch_id}/", HTTP_X_CLIENT_TOKEN=token)
    assert response.status_code == 404
    lines = [r for r in caplog.records if r.name == "portal.request"]
    assert len(lines) == 1
    record = lines[0]
    assert record.method == "GET"
    assert record.status == 404
    assert record.route == "api/launch/<launch_id>/"
    assert record.duration_ms >= 0
    # The launch id is the candidate's key: the route is logged, not the path.
    assert launch_id not in record.getMessage()
    assert record.request_id == response["X-Request-ID"]


def test_json_lines_carry_the_request_id_and_extra_fields():
    record = logging.makeLogRecord(
        {"name": "integrations.deliveries", "levelname": "INFO", "msg": "sent %s", "args": (7,)}
    )
    record.delivery_id = 7
    RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "sent 7"
    assert entry["delivery_id"] == 7
    assert entry["request_id"] == "-"
    assert entry["level"] == "INFO"


def test_the_consumer_prints_each_line_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUEY_REDIS_URL"}}
    env |= {"PORTAL_VAR_DIR": str(tmp_path), "HUEY_NAME": f"log-test-{os.getpid()}"}
    log_path = tmp_path / "consumer.log"
    with open(log_path, "w") as log:
        consumer = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "1", "--no-periodic"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "Huey consumer started" not in log_path.read_text():
            assert time.monotonic() < deadline and consumer.poll() is None, log_path.read_text()
            time.sleep(0.2)
        time.sleep(0.5)  # a second copy of the line would come right after the first
    finally:
        os.killpg(consumer.pid, signal.SIGINT)
        consumer.wait(timeout=20)
    output = log_path.read_text()
    started = [line for line in output.splitlines() if "Huey consumer started" in line]
    assert len(started) == 1, output


@pytest.fixture
def delivery_log_lines():
    """The deliveries' log as JSON lines, formatted and filtered as settings.LOGGING does."""
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    deliveries_log = logging.getLogger("integrations.deliveries")
    deliveries_log.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    deliveries_log.removeHandler(handler)


@pytest.mark.django_db(transaction=True)
def test_a_delivery_attempt_logs_the_request_that_enqueued_it(
    operator_client, receiver, delivery_log_lines
):
    from huey.contrib.djhuey import HUEY

    from integrations.models import Delivery

    delivery = Delivery.objects.create(
        kind="results_submission",
        target_url=receiver.url("/results"),
        payload="{}",
        require_success_flag=True,
    )
    HUEY.flush()
    response = operator_client.post(f"/staff/deliveries/{delivery.pk}/send-now/")
    assert response.status_code in {200, 302}
    task = HUEY.dequeue()  # what a consumer takes from the queue
    assert task is not None
    HUEY.execute(task)
    attempt = next(line for line in delivery_log_lines() if "attempt" in line)
    assert attempt["request_id"] == response["X-Request-ID"]
    assert attempt["delivery_id"] == delivery.pk
    assert attempt["kind"] == "results_submission"
    assert attempt["attempt"] == 1
    assert attempt["outcome"] == "delivered"
    assert attempt["level"] == "INFO"


@pytest.mark.django_db(transaction=True)
def test_a_failed_attempt_is_logged_with_its_reason_and_next_attempt(delivery_log_lines):
    from huey.contrib.djhuey import HUEY

    from integrations import deliveries
    from integrations.models import Delivery

    delivery = Delivery.objects.create(
        kind="results_submission", target_url=f"http://127.0.0.1:{free_port()}/hook", payload="{}"
    )
    HUEY.flush()
    deliveries.attempt_delivery(delivery.pk)
    attempt = next(line for line in delivery_log_lines() if "attempt" in line)
    assert attempt["level"] == "WARNING"
    assert attempt["outcome"] == "failed"
    assert attempt["next_attempt_at"]
    assert "next attempt at" in attempt["message"]
