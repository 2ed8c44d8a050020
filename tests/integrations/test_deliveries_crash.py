"""A Huey consumer killed mid-delivery loses nothing: after a restart the delivery arrives.

For real: `manage.py run_huey` runs as a subprocess on the test's database and a queue of
its own, takes the delivery, and is SIGKILLed while the partner holds its request open. The
claim it left runs out (DELIVERY_CLAIM_SECONDS, 3 s here), `manage.py sweep_deliveries`
(what the per-minute periodic task does) enqueues the delivery again, and the restarted
consumer delivers it.

On PostgreSQL the subprocesses use the test database itself (this test commits, so they see
its rows). pytest-django keeps the SQLite test database in this process's memory, out of
their reach, so there it is copied (schema only) to a file that every process then shares.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from standardwebhooks import Webhook

from bench.server import alive, children
from tests.factories import stop

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CLAIM_SECONDS = 3


class Portal:
    """The portal's processes (consumers, commands) on one database and one queue."""

    def __init__(self, env: dict[str, str], logs: Path, sqlite_file: Path | None) -> None:
        self.env = env
        self.logs = logs
        self.sqlite_file = sqlite_file
        self.consumers: list[subprocess.Popen] = []

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code)

    def start_consumer(self) -> subprocess.Popen:
        log = open(self.logs / f"consumer-{len(self.consumers) + 1}.log", "w")  # noqa: SIM115
        consumer = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "run_huey", "--skip-checks"]
            + ["--workers", "2", "--delay", "0.1", "--max-delay", "0.5"]
            # The test runs the sweep itself: a periodic one at a minute boundary would race it.
            + ["--no-periodic"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.consumers.append(consumer)
        return consumer

    def consumer_logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.logs.glob("consumer-*.log")))

    def create_delivery(self, url: str, secret: str) -> int:
        """What a portal service does: record the delivery in a transaction, which commits."""
        return int(
            self.shell(
                "from django.db import transaction\n"
                "from integrations.deliveries import enqueue_delivery\n"
                "with transaction.atomic():\n"
                "    delivery = enqueue_delivery(kind='results_submission', payload={'user_id':"
                f" 'EMP_789'}}, target_url={url!r}, signing_secret={secret!r})\n"
                "print(delivery.pk)"
            )
        )

    def state(self, pk: int) -> dict:
        """The delivery as the database has it (read here: a shell would cost a second)."""
        delivery = "SELECT status, attempt_count FROM integrations_delivery WHERE id = %s"
        attempts = (
            "SELECT outcome FROM integrations_deliveryattempt WHERE delivery_id = %s"
            " ORDER BY started_at, id"
        )
        if self.sqlite_file is None:
            with connection.cursor() as cursor:
                cursor.execute(delivery, [pk])
                status, count = cursor.fetchone()
                cursor.execute(attempts, [pk])
                outcomes = [outcome for (outcome,) in cursor.fetchall()]
        else:
            with closing(sqlite3.connect(self.sqlite_file, timeout=20)) as db:
                status, count = db.execute(delivery.replace("%s", "?"), [pk]).fetchone()
                rows = db.execute(attempts.replace("%s", "?"), [pk]).fetchall()
                outcomes = [outcome for (outcome,) in rows]
        return {"status": status, "attempts": count, "outcomes": outcomes}

    def stop(self) -> None:
        for consumer in self.consumers:
            if consumer.poll() is None:
                stop(consumer, timeout=10)


def database_env(tmp_path: Path) -> tuple[dict[str, str], Path | None]:
    """Point the subprocesses at this test's database (and say which SQLite file, if one)."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        credentials = quote(db["USER"] or "") + ":" + quote(db["PASSWORD"] or "")
        address = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        return {"DATABASE_URL": f"postgres://{credentials}@{address}/{db['NAME']}"}, None
    if connection.vendor == "sqlite":
        # PORTAL_VAR_DIR (set below) puts the database at tmp_path / "portal.sqlite3".
        connection.ensure_connection()
        with closing(sqlite3.connect(tmp_path / "portal.sqlite3")) as target:
            connection.connection.backup(target)
        return {}, tmp_path / "portal.sqlite3"
    pytest.skip(f"no recipe to share a {connection.vendor} test database")


@pytest.fixture
def portal(tmp_path, settings):
    queue = f"crash-test-{uuid.uuid4().hex[:12]}"
    database, sqlite_file = database_env(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= database | {
        "DJANGO_SETTINGS_MODULE": "crash_settings",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)]),
        "PORTAL_VAR_DIR": str(tmp_path),  # the SQLite database and Huey queue files, if used
        "CRASH_TEST_QUEUE": queue,
        "HUEY_IMMEDIATE": "false",
        "OUTBOUND_ALLOW_LOOPBACK": "true",
        "HTTP_TIMEOUT_SECONDS": "2.5",  # < the claim, as in production
        "DELIVERY_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    portal = Portal(env, tmp_path, sqlite_file)
    yield portal
    portal.stop()
    if settings.REDIS_URL:
        from huey import RedisHuey

        RedisHuey(queue, url=settings.REDIS_URL).flush()


def test_a_consumer_killed_mid_send_delivers_after_restart(partner, portal, secret):
    partner.hang_first.set()  # the partner holds the first request open
    first = portal.start_consumer()
    pk = portal.create_delivery(partner.url("/hang"), secret)

    assert partner.first_request.wait(60), portal.consumer_logs()
    sent_at = time.monotonic()
    workers = children(first.pid)
    assert len(workers) >= 2  # the two workers (and the scheduler) are processes of their own
    first.send_signal(signal.SIGKILL)  # mid-send: claimed, attempt started, no answer yet
    first.wait(timeout=10)
    # They end with it: an orphan would finish the attempt (and take tasks) beside the next.
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)
    assert portal.state(pk) == {"status": "pending", "attempts": 1, "outcomes": ["sending"]}

    portal.start_consumer()
    time.sleep(max(0.0, sent_at + CLAIM_SECONDS + 0.5 - time.monotonic()))
    assert portal.manage("sweep_deliveries", "--skip-checks") == "Enqueued 1 due deliveries."

    received = partner.wait_for(2)
    assert len(received) == 2, portal.consumer_logs()
    deadline = time.monotonic() + 30
    while (state := portal.state(pk))["status"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state == {"status": "delivered", "attempts": 2, "outcomes": ["interrupted", "delivered"]}
    # The same message both times, and the second one verifies as a partner checks it.
    assert received[0].headers["webhook-id"] == received[1].headers["webhook-id"]
    assert received[0].body == received[1].body
    assert Webhook(secret).verify(received[1].body, received[1].headers) == {"user_id": "EMP_789"}
