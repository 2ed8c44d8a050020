"""The portal as production serves it: the Procfile's roles (gunicorn, a worker, the scheduler)
as real processes on this test's database and queue (docs/operations.md)."""

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.browser.conftest import database_env
from tests.factories import CALLBACK, free_port, on_postgres, stop

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def roles_env(queue: str, port: int, **extra: str) -> dict[str, str]:
    unset = {"DATABASE_URL", "SQLITE_PATH", "PROMETHEUS_MULTIPROC_DIR", "DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return (
        env
        | database_env()
        | {
            "HUEY_NAME": queue,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "OUTBOUND_ALLOW_LOOPBACK": "true",
            "PYTHON": sys.executable,
        }
        | extra
    )


@contextmanager
def served(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Run `command` (its own process group) until the block ends; yields the base URL once
    /healthz answers."""
    base = f"http://127.0.0.1:{env['PORT']}"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, log_path.read_text()
            time.sleep(0.2)
        yield base
    finally:
        stop(process, timeout=30, group=True)


@pytest.mark.skipif(not on_postgres(), reason="the connection budget is PostgreSQL's")
def test_100_parallel_launches_stay_within_the_connection_budget(
    exam, token, private_queue, tmp_path, together
):
    app = f"portal-web-{uuid.uuid4().hex[:8]}"
    env = roles_env(private_queue, free_port(), WEB_CONCURRENCY="2", WEB_THREADS="4", PGAPPNAME=app)
    budget = 2 * 4  # docs/operations.md: WEB_CONCURRENCY × WEB_THREADS
    seen: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        try:
            with connection.cursor() as cursor:
                while not stop.is_set():
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [app]
                    )
                    seen.append(cursor.fetchone()[0])
                    time.sleep(0.02)
        finally:
            connection.close()  # this thread's own connection: the test database is dropped

    with served([str(ROOT / "scripts" / "serve"), "web"], env, tmp_path / "web.log") as base:
        sampler = threading.Thread(target=sample)
        sampler.start()
        try:

            def launch(index: int) -> httpx.Response:
                return httpx.post(
                    f"{base}/api/integration/exams/launch/",
                    json={
                        "student_uuid": f"budget-{index % 60}",  # 40 of them resume a quiz
                        "eurl": exam.pk,
                        "callback_url": CALLBACK,
                    },
                    headers={"X-Client-Token": token},
                    timeout=60,
                )

            responses = together(100, launch)
        finally:
            stop.set()
            sampler.join()
    assert [r.status_code for r in responses] == [201] * 100, {r.text for r in responses}
    assert len({r.json()["quiz_id"] for r in responses}) == 60
    assert max(seen) > 0, "the sampler never saw the web role's connections"
    assert max(seen) <= budget, (max(seen), budget)


PERIODIC_EVERY_MINUTE = (
    "integrations.tasks.sweep_deliveries",
    "portal.exams.tasks.finish_expired_quizzes",
    "portal.roleplays.tasks.finish_overdue_roleplays",
    "portal.housekeeping.tasks.heartbeat",
)


def results_received(receiver) -> int:
    return sum(path.endswith("receive-assessment-results") for path, _, _ in receiver.requests)


def runs(log: str, task: str) -> int:
    """How many times the consumers' log says `task` started."""
    return len(re.findall(rf"Executing {re.escape(task)}\b", log))


def test_the_procfile_roles_deliver_each_result_once_and_run_each_periodic_task_once(
    exam, token, private_queue, tmp_path, receiver
):
    """gunicorn (2 processes), a worker and the scheduler, started from the Procfile by honcho:
    an exam launched and submitted through the web, a roleplay completed, its results delivered
    to the partner once; at the minute observed each periodic task ran once, though two
    consumers were running."""
    from portal.roleplays.models import Roleplay
    from tests.factories import make_assessment, make_cluster
    from tests.roleplays.test_services import complete_all

    port = free_port()
    cluster, partner, options = make_cluster(partner_hosts="127.0.0.1")
    partner.base_url = receiver.base_url
    partner.save()
    # LOG_LEVEL=DEBUG: the routine periodic tasks' runs are in the log (portal.queue.routine).
    env = roles_env(
        private_queue,
        port,
        WEB_CONCURRENCY="2",
        WAIT_FOR_WEB=f"127.0.0.1:{port}",
        LOG_LEVEL="DEBUG",
    )
    command = [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "web", "worker"]
    log_path = tmp_path / "roles.log"
    with served([*command, "scheduler"], env, log_path) as base:
        headers = {"X-Client-Token": token}
        launched = httpx.post(
            f"{base}/api/integration/exams/launch/",
            json={"student_uuid": "roles-1", "eurl": exam.pk, "callback_url": CALLBACK},
            headers=headers,
            timeout=30,
        ).json()
        submit = f"{base}/api/launch/{launched['launch_id']}/submit/"
        first = httpx.post(submit, json={"responses": []}, headers=headers, timeout=30)
        again = httpx.post(submit, json={"responses": []}, headers=headers, timeout=30)
        assert first.status_code == 200 and first.json()["result"]["state"] == "completed"
        assert again.status_code == 400 and again.json()["code"] == "quiz_finished"

        rp1, rp2 = Roleplay.objects.filter(cluster=cluster).order_by("position")
        assessment = make_assessment(cluster, partner)
        world = {"options": options, "assessment": assessment, "rp1": rp1, "rp2": rp2}
        complete_all(world)  # commits: the results delivery is enqueued for the worker

        deadline = time.monotonic() + 30
        while not results_received(receiver):
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        # Wait for a minute's periodic tasks, and a little for any second copy of them.
        deadline = time.monotonic() + 90
        while not runs(log_path.read_text(), "portal.housekeeping.tasks.heartbeat"):
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.5)
        time.sleep(5)
    log = log_path.read_text()
    assert {task: runs(log, task) for task in PERIODIC_EVERY_MINUTE} == dict.fromkeys(
        PERIODIC_EVERY_MINUTE, 1
    ), log
    # Delivered once: the sweep that ran found nothing to send again.
    assert results_received(receiver) == 1
