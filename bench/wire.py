"""A minimal HTTP/1.1 client on raw sockets, for the load client (no Django here).

gunicorn's sync workers close the connection after each response, so every request is one
connect, one send, one read to EOF: nothing to pool, and much cheaper on the client's CPU than
http.client or httpx, so that the client stays small next to the server it measures.
"""

import socket
from dataclasses import dataclass, field

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)  # names in lower case
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def cookies(self) -> dict[str, str]:
        """The cookies this reply sets, by name (values only)."""
        found = {}
        for key, value in self.headers:
            if key == "set-cookie":
                pair = value.split(";", 1)[0]
                name, _, cookie = pair.partition("=")
                found[name.strip()] = cookie.strip()
        return found


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 60.0,
) -> Reply:
    """Send one request on a fresh connection and read the whole reply."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close"]
    if body or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    chunks = []
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(data)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, content = raw.partition(b"\r\n\r\n")
    if not head:
        raise ConnectionError("empty reply")
    head_lines = head.decode("latin-1").split("\r\n")
    status = int(head_lines[0].split(" ", 2)[1])
    reply_headers = []
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        reply_headers.append((name.strip().lower(), value.strip()))
    reply = Reply(status, reply_headers, content)
    if (reply.header("transfer-encoding") or "").lower() == "chunked":
        reply = Reply(status, reply_headers, _dechunk(content))
    return reply
