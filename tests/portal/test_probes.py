"""/healthz and /readyz: what a load balancer sees with each dependency up or down."""

import time

import pytest
from django.db.migrations.recorder import MigrationRecorder
from huey import RedisHuey

from portal import health
from tests.factories import broken_database

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _not_yet_migrated(monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)


def unreachable_queue() -> RedisHuey:
    """A real Redis client for a port nothing listens on."""
    return RedisHuey("probe-test", url="redis://127.0.0.1:9/0", blocking=False)


def test_healthz_answers_get_and_head_and_refuses_writes(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    head = client.head("/healthz")
    assert head.status_code == 200
    assert "no-cache" in head["Cache-Control"]
    assert client.post("/healthz").status_code == 405


def test_probes_are_never_rate_limited(client):
    statuses = {client.get("/healthz").status_code for _ in range(150)}
    statuses |= {client.get("/readyz").status_code for _ in range(150)}
    assert statuses == {200}


def test_readyz_is_ready_when_everything_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "up", "migrations": "applied", "queue": "up"}
    assert client.head("/readyz").status_code == 200


def test_readyz_is_not_ready_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr(health, "connection", broken_database())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down"
    assert response.json()["checks"]["migrations"] == "unknown"
    # No error text, path or host in what any caller can read.
    assert "nonexistent" not in response.content.decode()


def test_readyz_is_not_ready_when_the_queue_is_down(client, monkeypatch):
    import huey.contrib.djhuey

    monkeypatch.setattr(huey.contrib.djhuey, "HUEY", unreachable_queue())
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["queue"] == "down"
    assert body["checks"]["database"] == "up"
    assert "9/0" not in response.content.decode()


def test_readyz_is_not_ready_while_a_migration_is_pending(client):
    latest = MigrationRecorder.Migration.objects.filter(app="exams").order_by("-id").first()
    latest.delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "pending"


def test_the_consumer_heartbeat_is_reported_not_required(client):
    from huey.contrib.djhuey import HUEY

    HUEY.delete(health.HEARTBEAT_KEY)
    assert client.get("/readyz").json()["consumer"] == "unknown"
    health.beat()
    assert client.get("/readyz").json()["consumer"] == "up"
    HUEY.put(health.HEARTBEAT_KEY, time.time() - health.HEARTBEAT_STALE_SECONDS - 5)
    response = client.get("/readyz")
    assert response.json()["consumer"] == "stale"
    assert response.status_code == 200
