"""A partner's webhook receiver on 127.0.0.1 for the browser tests: it takes every message
with the seed-000 `{"success": true}` reply and keeps what it got."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SUCCESS = {"success": True, "message": "Results received successfully"}

Received = tuple[str, dict[str, str], bytes]  # path, headers, body


class WebhookReceiver:
    """With `keep_alive`, HTTP/1.1 connections stay open between requests; `client_ports`
    then tells which connection each request came on."""

    def __init__(self, *, keep_alive: bool = False) -> None:
        self.requests: list[Received] = []
        self.client_ports: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append((self.path, dict(self.headers), body))
                    receiver.client_ports.append(self.client_address[1])
                reply = json.dumps(SUCCESS).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def connections(self) -> int:
        """How many connections the requests came on."""
        return len(set(self.client_ports))

    def url(self, path: str = "/results") -> str:
        return self.base_url + path

    def wait_for(self, count: int, timeout: float = 45) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.1)
        with self._lock:
            return list(self.requests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
