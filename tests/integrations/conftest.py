"""Fixtures of the delivery tests: a real partner HTTP server on 127.0.0.1, and a private queue.

The partner is a customer's receiver as the seed-000 contract describes it: it answers
{"success": true, ...} when it takes a message. Its paths misbehave on purpose (errors, slow
replies, redirects, Retry-After, 410), and it records every request it gets.
"""

import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage

from integrations.deliveries import enqueue_delivery
from integrations.models import Delivery
from integrations.signing import new_webhook_secret

SUCCESS = {"success": True, "user_id": "EMP_789", "message": "Results received successfully"}
PAYLOAD = {
    "cluster_id": "b4bf406c-4f9",
    "cluster_name": "Leadership",
    "user_id": "EMP_789",
    "user_name": "Jóhn Doe",  # non-ASCII on purpose: the signature covers UTF-8 bytes
    "roleplays": [],
}


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Partner:
    """A partner's webhook receiver: its paths answer as their names say."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self.slow_seconds = 1.0
        self.flaky_failures = 0  # /flaky answers 500 this many times, then succeeds
        self.hang_first = threading.Event()  # set: /hang holds its first request
        self.first_request = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received()

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str, seen: int) -> tuple[int, dict[str, str], bytes]:
        ok = (200, {"Content-Type": "application/json"}, json.dumps(SUCCESS).encode())
        match path:
            case "/ok":
                return ok
            case "/error":
                return 500, {"Content-Type": "text/plain"}, b"Internal Server Error"
            case "/refused":
                body = {"success": False, "detail": "Invalid results format"}
                return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
            case "/plain":
                return 200, {"Content-Type": "text/plain"}, b"OK"
            case "/slow":
                time.sleep(self.slow_seconds)
                return ok
            case "/busy":
                return 429, {"Retry-After": "600"}, b""
            case "/unavailable":
                when = datetime.now(UTC) + timedelta(hours=2)
                return 503, {"Retry-After": format_datetime(when, usegmt=True)}, b""
            case "/gone":
                return 410, {}, b""
            case "/redirect":
                return 302, {"Location": self.url("/ok")}, b""
            case "/flaky":
                return (500, {}, b"not yet") if seen <= self.flaky_failures else ok
            case "/hang":
                if seen == 1 and self.hang_first.is_set():
                    self.first_request.set()
                    self.release.wait(60)
                return ok
        return 404, {}, b"no such path"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with partner._lock:
                    partner.requests.append(Received(self.path, dict(self.headers), body))
                    seen = len([r for r in partner.requests if r.path == self.path])
                status, headers, reply = partner._answer(self.path, seen)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the client gave up (a timeout test) or was killed (the crash test)

            def log_message(self, *args) -> None:
                pass

        return Handler


@pytest.fixture
def partner():
    server = Partner()
    yield server
    server.close()


@pytest.fixture
def tls_partner():
    """Start a partner that speaks https with the given server context."""
    servers: list[Partner] = []

    def start(tls: ssl.SSLContext) -> Partner:
        servers.append(Partner(tls=tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(autouse=True)
def queue(monkeypatch):
    """Huey's queue, kept in memory for the test: what was enqueued, and nothing shared."""
    monkeypatch.setattr(HUEY, "storage", MemoryStorage(HUEY.name))
    return HUEY


@pytest.fixture
def outbound(settings):
    """Loopback allowed (the partner is on 127.0.0.1) and a short timeout."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    settings.HTTP_TIMEOUT_SECONDS = 2.0
    settings.DELIVERY_CLAIM_SECONDS = 30
    return settings


@pytest.fixture
def closed_port_url() -> str:
    """A URL on a port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def secret() -> str:
    return new_webhook_secret()


@pytest.fixture
def make_delivery(secret):
    """Record a delivery as a portal service does: inside its transaction."""

    def make(target_url: str, **fields) -> Delivery:
        options = {
            "kind": "results_submission",
            "target_url": target_url,
            "payload": PAYLOAD,
            "signing_secret": secret,
        } | fields
        with transaction.atomic():
            return enqueue_delivery(**options)

    return make


@pytest.fixture
def make_due():
    """Bring a delivery's next attempt forward to now, instead of waiting for the schedule."""

    def make(delivery: Delivery) -> None:
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())

    return make
