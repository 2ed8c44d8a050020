"""URL safety of outbound requests: allowed hosts, refused addresses, pinned connections.

Every refused address class is tried in its odd spellings too, and the connection goes to the
address that was checked.
"""

import shutil
import socket
import ssl
import subprocess

import httpx
import pytest

from integrations import http
from integrations.deliveries import attempt_delivery
from integrations.models import Delivery, DeliveryAttempt

REAL_GETADDRINFO = socket.getaddrinfo

# Refused whatever OUTBOUND_ALLOW_LOOPBACK says.
ALWAYS_REFUSED = [
    "http://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
    "http://2852039166/latest/meta-data",  # the same, as one decimal number
    "http://[fe80::1]/",  # IPv6 link-local
    "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
    "http://100.100.100.200/",  # Alibaba metadata
    "http://192.0.0.192/",  # Oracle metadata
    "http://0.0.0.0/",  # unspecified: reaches this machine on Linux
    "http://0/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://[::ffff:7f00:1]/",  # the same, in hex
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::7f00:1]/",  # NAT64 form of 127.0.0.1
    "http://[2002:a00:1::]/",  # 6to4 form of 10.0.0.1
    "http://10.0.0.1/",  # private
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://0xa000001/",  # 10.0.0.1 in hex
    "http://[fd12:3456::1]/",  # IPv6 unique local
    "http://100.64.0.1/",  # shared (carrier-grade NAT)
    "http://224.0.0.1/",  # multicast
    "http://[ff02::1]/",
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://198.18.0.1/",  # benchmarking
    "http://192.0.2.1/",  # documentation
]
LOOPBACK = [
    "http://127.0.0.1/",
    "http://127.9.9.9:8080/hook",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f.0.0.1/",  # hex
    "http://0x7f000001/",
    "http://017700000001/",  # octal
    "http://127.1/",  # short form
    "http://[::1]/",
    "http://localhost/",  # a name that resolves to loopback
]


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Make getaddrinfo answer `answers` for those names; return the names looked up."""
    looked_up: list[str] = []

    def getaddrinfo(host, port, *args, flags=0, **kwargs):
        if host not in answers:
            return REAL_GETADDRINFO(host, port, *args, flags=flags, **kwargs)
        if flags & socket.AI_NUMERICHOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        looked_up.append(host)
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


@pytest.mark.parametrize("url", ALWAYS_REFUSED)
def test_non_public_addresses_are_refused_even_with_loopback_allowed(url, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    with pytest.raises(http.UnsafeURL, match="refused") as refused:
        http.check_url(url)
    assert refused.value.permanent
    # IP literals need no DNS to be refused.
    with pytest.raises(http.UnsafeURL):
        http.check_url(url, resolve=False)


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_in_any_spelling_is_refused_unless_the_setting_allows_it(url, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    with pytest.raises(http.UnsafeURL, match="loopback"):
        http.check_url(url)

    settings.OUTBOUND_ALLOW_LOOPBACK = True
    http.check_url(url)


@pytest.mark.parametrize("url", ["http://012.0.0.1/", "http://0177.0.0.1/", "http://127.0.0.01/"])
def test_dotted_octal_spellings_are_not_even_valid_urls(url, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    with pytest.raises(http.UnsafeURL, match="not a valid URL"):
        http.check_url(url)


def test_the_refusal_says_what_the_address_is():
    with pytest.raises(http.UnsafeURL) as refused:
        http.check_url("http://2852039166/latest/meta-data")
    assert str(refused.value) == (
        "2852039166 resolves to 169.254.169.254, a link-local or cloud metadata address;"
        " outbound requests to it are refused"
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://partner.example/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http:///no-host",
        "https://user:secret@partner.example/hook",
        "http://[fe80::1%25eth0]/",
        "not a url",
        "",
    ],
)
def test_only_plain_http_and_https_urls_pass(url):
    with pytest.raises(http.UnsafeURL):
        http.check_url(url)


def test_allowed_hosts_match_exactly_and_ignore_case(monkeypatch):
    looked_up = fake_dns(monkeypatch, {"q3.example.com": ["93.184.216.34"]})

    http.check_url("https://Q3.Example.COM/api/receive-assessment-results", ["q3.example.com"])
    http.check_url("https://q3.example.com/hook", ["other.example", "Q3.EXAMPLE.COM"])
    http.check_url("https://q3.example.com/hook")  # no list: any public host
    assert looked_up == ["q3.example.com"] * 3

    for url in [
        "https://evil.example/hook",
        "https://q3.example.com.evil.example/hook",
        "https://evil.example/q3.example.com",
        "https://sub.q3.example.com/hook",
    ]:
        with pytest.raises(http.UnsafeURL, match="not one of the allowed hosts"):
            http.check_url(url, ["q3.example.com"])
    assert looked_up == ["q3.example.com"] * 3  # refused before any DNS query


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    fake_dns(
        monkeypatch,
        {"internal.example": ["10.1.2.3"], "mixed.example": ["93.184.216.34", "192.168.0.1"]},
    )
    with pytest.raises(http.UnsafeURL, match="internal.example resolves to 10.1.2.3, a private"):
        http.check_url("https://internal.example/hook")
    # One bad address is enough: we don't pick the good one and hope.
    with pytest.raises(http.UnsafeURL, match="192.168.0.1"):
        http.check_url("https://mixed.example/hook")
    # Without resolving, a name is only checked against the allowed hosts.
    http.check_url("https://internal.example/hook", resolve=False)


def test_a_name_that_does_not_resolve_is_a_temporary_refusal(monkeypatch):
    def no_answer(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_answer)
    with pytest.raises(http.UnsafeURL, match="could not be resolved") as refused:
        http.check_url("https://q3.example.com/hook")
    assert not refused.value.permanent


def test_post_connects_to_the_checked_address_with_the_original_host(
    monkeypatch, partner, outbound
):
    # A rebinding resolver: 127.0.0.1 when checked, then a private address.
    answers = {"partner.test": ["127.0.0.1"]}
    looked_up = fake_dns(monkeypatch, answers)

    def rebind(*args, **kwargs):
        answers["partner.test"] = ["10.9.9.9"]
        return original(*args, **kwargs)

    original = http._send
    monkeypatch.setattr(http, "_send", rebind)
    response = http.post(
        f"http://partner.test:{partner.port}/ok",
        content=b"{}",
        headers={"Content-Type": "application/json"},
        allowed_hosts=["partner.test"],
    )

    assert response.status_code == 200 and response.address == "127.0.0.1"
    assert looked_up == ["partner.test"]  # resolved once, and that answer was used
    [received] = partner.received("/ok")
    assert received.headers["Host"] == f"partner.test:{partner.port}"


def test_https_is_pinned_too_and_names_the_host_for_sni():
    request = http.pinned_request(
        "https://q3.example.com/api/receive-assessment-results?x=1", "93.184.216.34", b"{}", {}
    )
    url = request.url
    assert (url.scheme, url.host, url.port) == (b"https", b"93.184.216.34", None)
    assert url.target == b"/api/receive-assessment-results?x=1"
    assert dict(request.headers)[b"Host"] == b"q3.example.com"
    assert request.extensions["sni_hostname"] == "q3.example.com"

    six = http.pinned_request("https://q3.example.com:8443/hook", "2606:2800::1", b"{}", {})
    assert six.url.host == b"2606:2800::1" and six.url.port == 8443
    assert dict(six.headers)[b"Host"] == b"q3.example.com:8443"


def self_signed(directory, name: str) -> tuple[str, str]:
    """A certificate for `name` (and its key) made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    cert, key = str(directory / f"{name}.pem"), str(directory / f"{name}.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", f"/CN={name}"]
        + ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-addext", f"subjectAltName=DNS:{name}", "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize(("certified", "works"), [("partner.test", True), ("other.test", False)])
def test_https_checks_the_certificate_of_the_name_not_the_pinned_ip(
    certified, works, tmp_path, monkeypatch, outbound, receivers
):
    cert, key = self_signed(tmp_path, certified)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    partner = receivers(tls=server_tls)
    fake_dns(monkeypatch, {"partner.test": ["127.0.0.1"]})
    trusting = ssl.create_default_context(cafile=cert)  # our CA: the self-signed certificate
    monkeypatch.setattr(http, "ssl_context", lambda: trusting)
    url = f"https://partner.test:{partner.port}/ok"
    if works:
        response = http.post(url, content=b"{}", headers={})
        assert response.status_code == 200 and response.address == "127.0.0.1"
        assert partner.received()[0].headers["Host"] == f"partner.test:{partner.port}"
    else:
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            http.post(url, content=b"{}", headers={})
        assert partner.received() == []


def test_redirects_are_returned_not_followed(partner, outbound):
    response = http.post(partner.url("/redirect"), content=b"{}", headers={})
    assert response.status_code == 302
    assert [r.path for r in partner.received()] == ["/redirect"]


def test_a_closed_port_is_a_connection_error(closed_port_url, outbound):
    with pytest.raises(httpx.ConnectError):
        http.post(closed_port_url, content=b"{}", headers={})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/"],
)
def test_a_delivery_to_a_refused_url_is_dead_at_once(url, make_delivery, outbound):
    delivery = make_delivery(url)

    assert attempt_delivery(delivery.pk) == DeliveryAttempt.Outcome.REFUSED

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DEAD and delivery.attempt_count == 1
    assert delivery.last_error.startswith("Refused: ") and "refused" in delivery.last_error
    [attempt] = delivery.attempts.all()
    assert attempt.outcome == "refused" and attempt.status_code is None


@pytest.mark.django_db
def test_a_delivery_to_a_host_outside_its_allowed_hosts_is_dead(partner, make_delivery, outbound):
    delivery = make_delivery(partner.url("/ok"), allowed_hosts=["q3.example.com"])

    attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DEAD
    assert "not one of the allowed hosts (q3.example.com)" in delivery.last_error
    assert partner.received() == []


@pytest.mark.django_db
def test_a_loopback_delivery_is_dead_when_loopback_is_not_allowed(partner, make_delivery, outbound):
    outbound.OUTBOUND_ALLOW_LOOPBACK = False
    delivery = make_delivery(partner.url("/ok"))

    attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DEAD and "loopback" in delivery.last_error
    assert partner.received() == []


@pytest.mark.django_db
def test_a_delivery_whose_host_does_not_resolve_is_retried(monkeypatch, make_delivery, outbound):
    def no_answer(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_answer)
    delivery = make_delivery("https://q3.example.com/api/receive-assessment-results")

    assert attempt_delivery(delivery.pk) == DeliveryAttempt.Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_error.startswith("q3.example.com could not be resolved")
