"""Fixtures of the roleplay launch tests: a cluster, the partner Q3 (and another partner),
a candidate's launch token minted as Q3's server does, and a fake DNS for the partners' hosts.
"""

import socket
import time
from collections.abc import Callable

import jwt
import pytest

from portal.partners.models import Partner
from portal.roleplays.models import Cluster
from tests.factories import make_small_cluster

Q3_SECRET = "q3-launch-secret-0123456789abcdefghijklmnop"  # 43 bytes
OTHER_SECRET = "other-partner-secret-0123456789abcdefghijkl"
LAUNCH_PATH = "/api/integration/assessment-launch"
CANDIDATE = "EMP_789"

# What the partners' host names resolve to in these tests (no real DNS is asked).
DNS = {
    "q3.example.com": "93.184.215.14",
    "other.example.org": "93.184.215.15",
    "intranet.q3.example.com": "10.1.2.3",
}


@pytest.fixture
def fake_dns(monkeypatch) -> dict[str, str]:
    """Resolve the names in DNS to their address; anything else as the system would."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name in DNS:
            if flags & socket.AI_NUMERICHOST:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (DNS[name], port or 0))]
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return DNS


@pytest.fixture
def make_cluster(db) -> Callable[..., Cluster]:
    """A minimal cluster: one roleplay."""
    return make_small_cluster


@pytest.fixture
def cluster(make_cluster) -> Cluster:
    return make_cluster()


@pytest.fixture
def partner(cluster, fake_dns) -> Partner:
    """Q3: its own secret, its base URL's host, and the cluster open to it."""
    q3 = Partner.objects.create(name="Q3", jwt_secret=Q3_SECRET, base_url="https://q3.example.com")
    q3.clusters.add(cluster)
    return q3


@pytest.fixture
def other_partner(db, fake_dns) -> Partner:
    """Another partner, to whom the cluster is not open."""
    return Partner.objects.create(
        name="Other HR", jwt_secret=OTHER_SECRET, base_url="https://other.example.org"
    )


@pytest.fixture
def mint() -> Callable[..., str]:
    """A launch token as Q3's server mints it; keyword arguments change claims, `without`
    drops some."""

    def make(
        *,
        secret: str = Q3_SECRET,
        algorithm: str = "HS256",
        lifetime: int = 15 * 60,
        iat: int | str | None = None,
        without: tuple[str, ...] = (),
        **claims,
    ) -> str:
        issued = int(time.time()) if iat is None else iat
        payload = {"user_id": CANDIDATE, "assessment_cluster_id": "b4bf406c-4f9", "iat": issued}
        if "exp" not in claims:
            payload["exp"] = issued + lifetime
        payload |= claims
        payload = {name: value for name, value in payload.items() if name not in without}
        return jwt.encode(payload, secret, algorithm=algorithm)

    return make


@pytest.fixture
def launch_body() -> Callable[..., dict]:
    """The seed's launch request for the candidate; keyword arguments change fields."""

    def make(token: str, **fields) -> dict:
        return {
            "user_id": CANDIDATE,
            "user_name": "johndoe",
            "assessment_cluster_id": "b4bf406c-4f9",
            "auth_token": token,
            "return_url": "https://q3.example.com/dashboard",
            "results_url": "https://q3.example.com/api/receive-assessment-results",
        } | fields

    return make


@pytest.fixture
def launch(client) -> Callable[..., object]:
    """POST a launch body (or raw text) the way a partner's server does."""

    def post(body, *, content_type: str = "application/json"):
        return client.post(LAUNCH_PATH, body, content_type=content_type)

    return post
