"""The one place that makes outbound HTTP: one timeout, no redirects, no private addresses.

`check_url()` refuses a URL before anything is sent: its scheme must be http(s), its host must
be in the caller's allowed hosts (when it gives any), and every address the host resolves to
must be public. Refused: private, loopback, link-local, unspecified, multicast, reserved and
shared (100.64.0.0/10) addresses, and IPv4 addresses wrapped in IPv6 (::ffff:127.0.0.1, NAT64,
6to4). Odd spellings of an IP ("2130706433", "0x7f.0.0.1", "127.1") resolve to the address
they mean, so resolving first catches them. settings.OUTBOUND_ALLOW_LOOPBACK lets loopback
(127.0.0.0/8, ::1) through for the sandbox and tests; link-local (169.254.0.0/16, fe80::/10)
and the cloud metadata addresses are refused whatever it says.

`post()` connects to the very address it checked (the request goes to the IP, with the
original Host header and, for https, the original name for SNI and certificate checks), so a
DNS answer that changes between the check and the connection (rebinding) gains nothing.

Connections are reused: each process keeps one SSL context (loading the CA bundle takes tens of
milliseconds) and one connection pool (httpcore's, as under httpx) per scheme and host name. A
pool keys its connections by the address and port they go to, so a kept-alive connection is
only reused for the same name (Host, SNI and the certificate it proved) at the same checked
address. post() sends through the pool itself, not through an httpx.Client or transport: a
client adds only what post() refuses anyway (redirects; cookies, since one delivery must not
carry what another's reply set), for about 0.2 ms a request, and httpx's request and response
models another 80 µs of CPU (docs/performance.md), for a body post() reads as bytes anyway.
httpcore's errors are raised as httpx's of the same name (httpx.HTTPError, TimeoutException,
ConnectError, …), as httpx itself raises them. The pools are shared by the consumer's threads,
and dropped in a forked child (it must not share the parent's sockets).
"""

import functools
import ipaddress
import os
import socket
import ssl
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TypedDict, Unpack

import httpcore
import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The most of a response body we read: enough for any JSON acknowledgement.
MAX_BODY_BYTES = 64 * 1024

# Refused whatever OUTBOUND_ALLOW_LOOPBACK says: link-local (where cloud metadata services
# live) and the metadata addresses of the clouds that put them elsewhere.
ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(network)
    for network in (
        "169.254.0.0/16",  # link-local; AWS, GCP, Azure metadata at 169.254.169.254
        "fe80::/10",  # IPv6 link-local
        "fec0::/10",  # IPv6 site-local (deprecated, still routed privately)
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "192.0.0.0/24",  # IETF protocol assignments; Oracle Cloud metadata at 192.0.0.192
    )
)
# Hosts whose transport (and its pool) a process keeps; the least recently used one is let go.
MAX_TRANSPORTS = 64
# How long an idle connection is kept: long enough for a burst of deliveries, short enough to
# stay under the servers' own keep-alive timeouts (gunicorn's is 2 s), so a connection is not
# reused just as the server closes it.
KEEPALIVE_SECONDS = 1.0

# httpx's default limits, which its transports gave the pools.
MAX_CONNECTIONS = httpx.Limits().max_connections
MAX_KEEPALIVE_CONNECTIONS = httpx.Limits().max_keepalive_connections

SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class UnsafeURL(Exception):
    """A URL we will not send to. `permanent` is False when retrying later may help (DNS)."""

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Response:
    """What came back: the status, headers and the first MAX_BODY_BYTES of the body."""

    status_code: int
    headers: httpx.Headers
    body: bytes
    address: str


class ClientOptions(TypedDict, total=False):
    """The httpx.Client arguments client() sets, or a caller may set."""

    base_url: str
    headers: Mapping[str, str]
    timeout: float
    follow_redirects: bool
    verify: ssl.SSLContext
    cookies: CookieJar
    limits: httpx.Limits
    transport: httpx.BaseTransport


def client(**kwargs: Unpack[ClientOptions]) -> httpx.Client:
    """A new client that sends as post() does (the sandbox's own requests use one): no
    redirects, no cookies, the process's SSL context."""
    options: ClientOptions = {
        "timeout": settings.HTTP_TIMEOUT_SECONDS,
        "follow_redirects": False,
        "verify": ssl_context(),
        "cookies": CookieJar(DefaultCookiePolicy(allowed_domains=[])),  # none kept, none sent
        "limits": httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
    }
    return httpx.Client(**(options | kwargs))


def connection_pool() -> httpcore.ConnectionPool:
    """A new pool as post() uses them (what httpx.HTTPTransport makes, without httpx around
    it): the process's SSL context, HTTP/1.1, httpx's default limits, idle connections kept
    KEEPALIVE_SECONDS. No proxy, no redirect, no cookie: it has none of them."""
    return httpcore.ConnectionPool(
        ssl_context=ssl_context(),
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )


_lock = threading.Lock()  # guards _transports
_ssl_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None
_transports: OrderedDict[tuple[str, str], httpcore.ConnectionPool] = OrderedDict()


def ssl_context() -> ssl.SSLContext:
    """The process's SSL context for outbound https (certifi's CAs, as httpx's default)."""
    global _ssl_context
    if _ssl_context is None:
        with _ssl_lock:
            if _ssl_context is None:
                _ssl_context = httpx.create_ssl_context(trust_env=False)
    return _ssl_context


def shared_transport(url: httpx.URL) -> httpcore.ConnectionPool:
    """The process's connection pool for `url`'s scheme and host name (made on first use)."""
    key = (url.scheme, url.raw_host.decode("ascii").lower())
    with _lock:
        shared = _transports.get(key)
        if shared is not None:
            _transports.move_to_end(key)
            return shared
    made = connection_pool()  # outside the lock: the first one builds the SSL context
    with _lock:
        shared = _transports.setdefault(key, made)
        if len(_transports) > MAX_TRANSPORTS:
            # Not closed: another thread may be sending on it; its sockets close with it.
            _transports.popitem(last=False)
    if shared is not made:
        made.close()  # another thread made one first
    return shared


def forget_transports() -> None:
    """Close and drop the shared transports (tests; a process that wants fresh connections)."""
    with _lock:
        transports = list(_transports.values())
        _transports.clear()
    for shared in transports:
        shared.close()


def _after_fork_in_child() -> None:
    # The child gets copies of the parent's sockets: it must open its own, and never touch
    # those (the parent's TLS sessions would break). The parent may have held the lock.
    global _lock, _ssl_lock, _transports
    _lock, _ssl_lock = threading.Lock(), threading.Lock()
    _transports = OrderedDict()


os.register_at_fork(after_in_child=_after_fork_in_child)


def check_url(url: str, allowed_hosts: Iterable[str] = (), *, resolve: bool = True) -> None:
    """Raise UnsafeURL unless `url` may be sent to now.

    With resolve=False no DNS query is made: IP literals (in any spelling) are still checked,
    host names only against `allowed_hosts`; post() checks the resolved addresses anyway.
    """
    _vet(url, allowed_hosts, resolve=resolve)


def refusal_reason(address: IPAddress, *, allow_loopback: bool | None = None) -> str | None:
    """Why we refuse to connect to `address`, or None if it is fine."""
    if allow_loopback is None:
        allow_loopback = settings.OUTBOUND_ALLOW_LOOPBACK
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        # A wrapped IPv4 address is judged by what it wraps, and never as loopback: no partner
        # needs ::ffff:127.0.0.1, and only plain loopback is what the setting allows.
        reason = refusal_reason(embedded, allow_loopback=False)
        return f"an IPv6 form of {embedded}, {reason}" if reason else None
    if any(address in network for network in ALWAYS_REFUSED):
        return "a link-local or cloud metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_multicast:
        return "a multicast address"
    if address.version == 4 and address in SHARED:
        return "a shared (carrier-grade NAT) address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def post(
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    allowed_hosts: Iterable[str] = (),
    max_body: int = MAX_BODY_BYTES,
) -> Response:
    """POST `content` to `url` after check_url(), pinned to the checked address.

    Raises UnsafeURL for a refused URL and httpx.HTTPError when the request fails; a
    redirect is returned as it is, never followed.
    """
    parsed, addresses = _vet(url, allowed_hosts, resolve=True)
    error: httpx.ConnectError | None = None
    sender = shared_transport(parsed)
    for address in addresses:
        try:
            request = _pinned_request(parsed, address, content, headers)
            return _send(sender, request, address, max_body)
        except httpx.ConnectError as connect_error:
            # Nothing was sent: the next checked address (e.g. IPv4 after IPv6) may answer.
            error = connect_error
    assert error is not None
    raise error


def pinned_request(
    url: str, address: str, content: bytes, headers: Mapping[str, str]
) -> httpcore.Request:
    """The request post() sends for `url` when connecting to `address` (for tests and tools)."""
    return _pinned_request(_parse(url), address, content, headers)


def _pinned_request(
    url: httpx.URL, address: str, content: bytes, headers: Mapping[str, str]
) -> httpcore.Request:
    extensions: dict[str, object] = {
        # The setting of the moment: each step (connect, write, read, the pool) has it.
        "timeout": dict(_timeouts(settings.HTTP_TIMEOUT_SECONDS)),
    }
    if url.scheme == "https":
        # TLS still names (and verifies the certificate of) the host, not the IP.
        extensions["sni_hostname"] = url.raw_host.decode("ascii")
    fields = {
        # Identity encoding: the body limit then bounds what we hold, not a zip bomb's output.
        "Accept-Encoding": "identity",
        **headers,
        "Host": url.netloc.decode("ascii"),
        "Content-Length": str(len(content)),
    }
    return httpcore.Request(
        "POST",
        _at_address(url, address),
        headers=[(name.encode("ascii"), value.encode("ascii")) for name, value in fields.items()],
        content=content,
        extensions=extensions,
    )


@functools.lru_cache(maxsize=256)
def _at_address(url: httpx.URL, address: str) -> httpcore.URL:
    """`url` with its host replaced by `address`, as httpcore takes it (made once per URL and
    address: httpx re-parses and re-quotes the whole URL to copy it)."""
    pinned = url.copy_with(host=address)
    return httpcore.URL(
        scheme=pinned.raw_scheme, host=pinned.raw_host, port=pinned.port, target=pinned.raw_path
    )


@functools.lru_cache(maxsize=8)
def _timeouts(seconds: float) -> dict[str, float | None]:
    return httpx.Timeout(seconds).as_dict()


def _send(
    sender: httpcore.ConnectionPool, request: httpcore.Request, address: str, max_body: int
) -> Response:
    # Each step has the timeout; a server trickling its body can't hold us past three of them.
    deadline = time.monotonic() + 3 * settings.HTTP_TIMEOUT_SECONDS
    with _as_httpx_errors():
        response = sender.handle_request(request)
        try:
            body = bytearray()
            for chunk in response.iter_stream():
                body += chunk
                if len(body) >= max_body:
                    break
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the response body took too long")
        finally:
            # A body left unread closes the connection; a fully read one goes back to the pool.
            response.close()
    headers = httpx.Headers(response.headers)
    content = _decoded(bytes(body[:max_body]), headers.get("Content-Encoding", ""), max_body)
    return Response(response.status, headers, content, address)


# zlib's window bits of the encodings a server may send though asked for none (identity).
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _decoded(body: bytes, encoding: str, max_body: int) -> bytes:
    """The body as httpx would give it: a gzip or deflate body decoded (at most `max_body`
    bytes of it, so a small bomb stays small), any other as it came."""
    wbits = _WBITS.get(encoding.strip().lower())
    if wbits is None or not body:
        return body
    try:
        return zlib.decompressobj(wbits).decompress(body, max_body)
    except zlib.error as error:
        raise httpx.DecodingError(f"the {encoding} body could not be decoded: {error}") from error


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """httpcore's errors as httpx raises them: the httpx exception of the same name
    (ConnectError, ReadTimeout, RemoteProtocolError, …; httpx declares each of httpcore's)."""
    try:
        yield
    except _HTTPCORE_ERRORS as error:
        raise getattr(httpx, type(error).__name__, httpx.TransportError)(str(error)) from error


# httpcore's error classes (each the base of its kind), as httpx's transport maps them.
_HTTPCORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
)


def _parse(url: str) -> httpx.URL:
    """`url` parsed and checked for what makes it unusable whatever it resolves to. The same
    few URLs come back with every delivery: parsing them once per process is enough (a URL
    refused here is not kept, and every address is still resolved and vetted per request)."""
    if isinstance(url, str):
        return _parse_url(url)
    return _parse_url.__wrapped__(url)


@functools.lru_cache(maxsize=256)
def _parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise UnsafeURL(f"{url!r} is not a valid URL: {error}") from error
    if parsed.scheme not in {"http", "https"}:
        raise UnsafeURL(f"{url!r} is not an http(s) URL")
    if not parsed.host:
        raise UnsafeURL(f"{url!r} has no host")
    if parsed.userinfo:
        raise UnsafeURL(f"{url!r} carries credentials; they are not sent")
    if "%" in parsed.host:
        raise UnsafeURL(f"{url!r} has an IPv6 zone identifier")
    return parsed


def _normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _vet(url: str, allowed_hosts: Iterable[str], *, resolve: bool) -> tuple[httpx.URL, list[str]]:
    parsed = _parse(url)
    allowed = {_normal_host(host) for host in allowed_hosts if host.strip()}
    names = {_normal_host(parsed.host), _normal_host(parsed.raw_host.decode("ascii"))}
    if allowed and not names & allowed:
        raise UnsafeURL(
            f"{parsed.host} is not one of the allowed hosts ({', '.join(sorted(allowed))})"
        )
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = _resolve(parsed.raw_host.decode("ascii"), port, numeric_only=not resolve)
    allow_loopback = settings.OUTBOUND_ALLOW_LOOPBACK
    for address in addresses:
        reason = _refusal_of(address, allow_loopback)
        if reason:
            if address == parsed.host:
                raise UnsafeURL(f"{parsed.host} is {reason}; outbound requests to it are refused")
            raise UnsafeURL(
                f"{parsed.host} resolves to {address}, {reason}; outbound requests to it are"
                " refused"
            )
    return parsed, addresses


@functools.lru_cache(maxsize=1024)
def _refusal_of(address: str, allow_loopback: bool) -> str | None:
    """refusal_reason() of a resolved address, judged once per process: a pure function of
    the address and the setting, and ipaddress's checks (a dozen network lists) cost more
    than the lookup itself. The address is still resolved and judged for every request."""
    return refusal_reason(ipaddress.ip_address(address), allow_loopback=allow_loopback)


def _resolve(host: str, port: int, *, numeric_only: bool) -> list[str]:
    """The addresses `host` stands for, in the resolver's order (only IP literals if told)."""
    flags = socket.AI_NUMERICHOST if numeric_only else 0
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=flags)
    except (socket.gaierror, UnicodeError) as error:
        if numeric_only:
            return []  # a name, not an IP literal: checked when it is resolved
        raise UnsafeURL(f"{host} could not be resolved ({error})", permanent=False) from error
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeURL(f"{host} resolves to no address", permanent=False)
    return addresses


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in network for network in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    # IPv4-compatible (::a.b.c.d, deprecated) is judged by its IPv4 part too.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None
