"""Fixtures of the delivery tests: real servers on 127.0.0.1, and a private queue.

The partner is a customer's receiver as the seed-000 contract describes it: it answers
{"success": true, ...} when it takes a message. Its paths misbehave on purpose (errors, slow
replies, redirects, Retry-After, 410), and it records every request it gets.

The HubSpot stand-in speaks just enough of the CRM v3 API (contact upsert by e-mail, deal
create with associations, deal search), keeps its contacts and deals, checks the Bearer token,
and can be told to fail a step, answer 429, or do a step and lose its reply. The mail server
is aiosmtpd: it keeps what it receives and can refuse recipients.
"""

import itertools
import json
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage
from standardwebhooks import Webhook, WebhookVerificationError

from integrations import http
from integrations.deliveries import enqueue_delivery
from integrations.models import Delivery
from integrations.signing import new_webhook_secret
from portal.partners.models import METADATA_PATH, RESULTS_PATH
from tests.factories import free_port

SUCCESS = {"success": True, "user_id": "EMP_789", "message": "Results received successfully"}
PAYLOAD = {
    "cluster_id": "b4bf406c-4f9",
    "cluster_name": "Leadership",
    "user_id": "EMP_789",
    "user_name": "Jóhn Doe",  # non-ASCII on purpose: the signature covers UTF-8 bytes
    "roleplays": [],
}
# The seed-000 paths, and a results_url a launch may name: a partner takes them as /ok does.
TAKEN_AS_OK = {METADATA_PATH, RESULTS_PATH, "/hooks/results"}


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


def verifies(secret: str, received: Received) -> bool:
    """Whether the partner, verifying with `secret` (`standardwebhooks`), takes the message."""
    try:
        Webhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError:
        return False
    return True


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
        if path in TAKEN_AS_OK:
            path = "/ok"
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
def receivers():
    """Start partners' receivers as a test needs them (`receivers(tls=context)` speaks https);
    all are closed after the test."""
    started: list[Partner] = []

    def start(*, tls: ssl.SSLContext | None = None) -> Partner:
        started.append(Partner(tls=tls))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture
def partner(receivers) -> Partner:
    return receivers()


@pytest.fixture(autouse=True)
def queue(monkeypatch):
    """Huey's queue, kept in memory for the test: what was enqueued, and nothing shared."""
    monkeypatch.setattr(HUEY, "storage", MemoryStorage(HUEY.name))
    return HUEY


@pytest.fixture(autouse=True)
def fresh_connections():
    """Each test starts without the process's shared transports: no connection (nor one a
    test made with its own SSL context) outlives the test that opened it."""
    http.forget_transports()
    yield
    http.forget_transports()


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
    return f"http://127.0.0.1:{free_port()}/hook"


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


class HubSpotStandIn:
    """HubSpot's CRM v3, as much as the sync uses. Steps: "contacts", "deals", "search"."""

    TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
    ROUTES = {
        "/crm/v3/objects/contacts/batch/upsert": "contacts",
        "/crm/v3/objects/deals": "deals",
        "/crm/v3/objects/deals/search": "search",
    }

    def __init__(self) -> None:
        self.contacts: dict[str, dict] = {}  # by lower-case e-mail
        self.deals: dict[str, dict] = {}  # by id
        self.requests: list[tuple[str, dict[str, str], dict]] = []
        self._failures: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self._lose_reply: set[str] = set()
        self._ids = itertools.count(5001)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def fail(self, step: str, status: int, *, times: int = 1, headers: dict | None = None) -> None:
        """Answer the next `times` requests of `step` with `status`, doing nothing."""
        body = json.dumps({"status": "error", "message": f"stand-in says {status}"}).encode()
        with self._lock:
            self._failures.setdefault(step, []).extend([(status, headers or {}, body)] * times)

    def lose_reply(self, step: str) -> None:
        """Do the next request of `step`, then drop the connection without answering."""
        with self._lock:
            self._lose_reply.add(step)

    def bodies(self, step: str) -> list[dict]:
        with self._lock:
            return [body for path, _, body in self.requests if self.ROUTES.get(path) == step]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, step: str, body: dict) -> tuple[int, dict]:
        if step == "contacts":
            results = []
            for item in body["inputs"]:
                assert item["idProperty"] == "email"
                key = item["id"].lower()
                new = key not in self.contacts
                if new:
                    self.contacts[key] = {"id": str(next(self._ids)), "properties": {}}
                contact = self.contacts[key]
                contact["properties"] |= item["properties"]
                results.append({"id": contact["id"], "new": new, **contact})
            return 200, {"status": "COMPLETE", "results": results}
        if step == "deals":
            known = {contact["id"] for contact in self.contacts.values()}
            for association in body.get("associations", []):
                if association["to"]["id"] not in known:
                    return 400, {"status": "error", "message": "no such contact"}
            deal_id = str(next(self._ids))
            self.deals[deal_id] = {
                "properties": body["properties"],
                "associations": body.get("associations", []),
            }
            return 201, {"id": deal_id, "properties": body["properties"]}
        [group] = body["filterGroups"]
        found = [
            {"id": deal_id, "properties": deal["properties"]}
            for deal_id, deal in self.deals.items()
            if all(
                deal["properties"].get(rule["propertyName"]) == rule["value"]
                for rule in group["filters"]
            )
        ]
        return 200, {"total": len(found), "results": found[: body.get("limit", 10)]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw or b"{}")
                step = stand_in.ROUTES.get(self.path)
                lose = False
                with stand_in._lock:
                    stand_in.requests.append((self.path, dict(self.headers), body))
                    failures = stand_in._failures.get(step or "", [])
                    if self.headers.get("Authorization") != f"Bearer {stand_in.TOKEN}":
                        status, headers, reply = 401, {}, b'{"category":"INVALID_AUTHENTICATION"}'
                    elif step is None:
                        status, headers, reply = 404, {}, b'{"message":"not found"}'
                    elif failures:
                        status, headers, reply = failures.pop(0)
                    else:
                        status, answer = stand_in._answer(step, body)
                        headers, reply = {}, json.dumps(answer).encode()
                        if step in stand_in._lose_reply:
                            stand_in._lose_reply.discard(step)
                            lose = True
                if lose:
                    self.close_connection = True  # done, but the caller never hears of it
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        return Handler


@pytest.fixture
def hubspot(outbound):
    """A HubSpot stand-in, with the portal's settings pointing at it."""
    stand_in = HubSpotStandIn()
    outbound.HUBSPOT_API_BASE = stand_in.base
    outbound.HUBSPOT_ACCESS_TOKEN = stand_in.TOKEN
    outbound.HUBSPOT_DEAL_PIPELINE = "ai_consulting_pipeline"
    outbound.HUBSPOT_DEAL_STAGE = "executive_briefing_requested"
    outbound.HUBSPOT_DEAL_ID_PROPERTY = "ai_assessment_id"
    yield stand_in
    stand_in.close()


@dataclass(frozen=True)
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


class MailServer:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it gets; it can refuse
    recipients (`refuse_with = "550 ..."`), and be stopped and started on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Mail] = []
        self.refuse_with: str | None = None
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def mail_server(settings):
    """A running SMTP server, and Django's SMTP backend pointing at it."""
    server = MailServer()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "use_tls": False, "timeout": 5},
        }
    }
    settings.DEFAULT_FROM_EMAIL = "AI Reality Check <results@scorecard.example>"
    settings.DELIVERY_CLAIM_SECONDS = 30
    server.start()
    yield server
    server.stop()
