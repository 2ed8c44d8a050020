"""A fast webhook receiver in its own process: it takes every POST with the reply
integrations.transports.webhook.judge() counts as delivered (HTTP 200, `{"success": true}`), and
keeps when each `webhook-id` first arrived (time.time(), to compare with commit times).

HTTP/1.1 with keep-alive, so a client that reuses its connection (the plain httpx loop) can;
GET /stats answers the arrivals as JSON; POST /reset forgets them.
"""

import json
import multiprocessing
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection

SUCCESS = json.dumps({"success": True, "message": "Results received successfully"}).encode()


def serve(conn: Connection) -> None:
    arrivals: dict[str, float] = {}
    received = 0
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are written separately: without this, Nagle and the client's
        # delayed ACK add 40 ms to every reply on a kept-alive connection.
        disable_nagle_algorithm = True

        def _reply(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            nonlocal received
            now = time.time()
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/reset":
                with lock:
                    arrivals.clear()
                    received = 0
                self._reply(b"{}")
                return
            webhook_id = self.headers.get("webhook-id", "")
            with lock:
                received += 1
                arrivals.setdefault(webhook_id, now)
            self._reply(SUCCESS)

        def do_GET(self) -> None:
            with lock:
                body = json.dumps({"received": received, "arrivals": arrivals}).encode()
            self._reply(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    conn.send(server.server_address[1])
    server.serve_forever(poll_interval=0.05)


class Receiver:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self.process = context.Process(target=serve, args=(theirs,), daemon=True)
        self.process.start()
        self.port: int = ours.recv()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.process.terminate()
        self.process.join(timeout=5)
