"""Shared fixtures. Fixtures name their people: a customer, another customer, a student."""

import os
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from huey.contrib.djhuey import HUEY
from hypothesis import settings as hypothesis_settings

from portal.customers.models import ClientToken, Customer
from portal.exams.models import Exam
from portal.staff.roles import ensure_roles
from tests.factories import at_once, make_exam

# Property tests: no per-example deadline (a busy CI machine made a 200 ms one fail a correct
# test) and no example database left in the checkout.
hypothesis_settings.register_profile("portal", deadline=None, database=None)
hypothesis_settings.load_profile("portal")


def pytest_configure(config):
    """Static files as with DEBUG (found in the source tree, unhashed): the suite doesn't run
    `collectstatic`. tests/portal/test_static_files.py checks the production way end to end."""
    from django.conf import settings

    # DEBUG off, as pytest-django runs every test, already while the URL map is first built
    # (api.main builds the production API unless DEBUG): a DEBUG=true in the caller's
    # environment would otherwise mount the development router in the suite's map.
    settings.DEBUG = False
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}
    }
    settings.WHITENOISE_USE_FINDERS = True


@pytest.fixture(scope="session", autouse=True)
def private_queue() -> Iterator[str]:
    """This test process's own Huey queue (on the configured storage: SQLite file or Redis), so
    tasks enqueued by tests never reach the developer's queue or another test process. A
    consumer a test starts joins it with HUEY_NAME."""
    HUEY.name = f"portal-test-{os.getpid()}"
    HUEY.storage = HUEY.create_storage()
    yield HUEY.name
    HUEY.storage.flush_all()


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test counts rate limits and figures from zero: a cache key prefix of its own (the
    Redis cache outlives test runs; the database cache would only be emptied by a flush)."""
    settings.CACHES = {
        alias: config | {"KEY_PREFIX": f"test-{os.getpid()}-{uuid.uuid4().hex[:12]}"}
        for alias, config in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def _sandbox_on(settings):
    """The suite serves the portal as `make run` does: the sandbox on, callbacks to loopback
    allowed (receivers run on 127.0.0.1). Tests of the production defaults turn them off."""
    settings.SANDBOX_ENABLED = True
    settings.OUTBOUND_ALLOW_LOOPBACK = True


@pytest.fixture
def customer(db) -> Customer:
    return Customer.objects.create(name="Acme Academy")


@pytest.fixture
def other_customer(db) -> Customer:
    return Customer.objects.create(name="Other Institute")


@pytest.fixture
def token_pair(customer) -> tuple[ClientToken, str]:
    return ClientToken.issue(customer=customer, label="tests")


@pytest.fixture
def token(token_pair) -> str:
    """The customer's plain client token, as its server sends it."""
    return token_pair[1]


@pytest.fixture
def other_token(other_customer) -> str:
    return ClientToken.issue(customer=other_customer)[1]


@pytest.fixture
def exam(customer) -> Exam:
    return make_exam(customer, questions=5)


@pytest.fixture(autouse=True)
def _steady_rate_limit_clock(monkeypatch):
    """Rate limits count by a clock that stands still in the middle of the current hour, so a
    test's requests never fall into two windows because the hour turned mid-test."""
    from portal import ratelimit

    pinned = time.time() // 3600 * 3600 + 1800.5
    monkeypatch.setattr(ratelimit, "CLOCK", lambda: pinned)


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = "http://testserver"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Staff people are made in almost every console test: hash their passwords cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- staff console people: a viewer, an operator, an author, a superuser, and an outsider (a
# signed-in user who is not staff). Each `*_client` is a Django test client signed in as them.
PASSWORD = "correct-horse-battery-staple"


def make_staff(username: str, role: str | None = None, **fields):
    user = get_user_model().objects.create_user(
        username=username, email=username, password=PASSWORD, is_staff=True, **fields
    )
    if role:
        ensure_roles()  # a test that flushed the database (live server tests) lost the groups
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def viewer(db):
    return make_staff("viewer@example.com", "viewer")


@pytest.fixture
def operator(db):
    return make_staff("operator@example.com", "operator")


@pytest.fixture
def author(db):
    return make_staff("author@example.com", "author")


@pytest.fixture
def superuser(db):
    return make_staff("root@example.com", is_superuser=True)


@pytest.fixture
def outsider(db):
    """Signed in, but not staff."""
    return get_user_model().objects.create_user(
        username="outsider@example.com", email="outsider@example.com", password=PASSWORD
    )


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(viewer) -> Client:
    return _client_for(viewer)


@pytest.fixture
def operator_client(operator) -> Client:
    return _client_for(operator)


@pytest.fixture
def author_client(author) -> Client:
    return _client_for(author)


@pytest.fixture
def superuser_client(superuser) -> Client:
    return _client_for(superuser)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return _client_for(outsider)


@pytest.fixture
def together() -> Callable[..., list[httpx.Response]]:
    """Run call(0..count-1) in threads released at the same moment by a barrier."""

    def run_all(count: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
        results = at_once(count, call)
        responses = [r for r in results if isinstance(r, httpx.Response)]
        errors = [r for r in results if not isinstance(r, httpx.Response)]
        assert not errors, errors
        return responses

    return run_all


@pytest.fixture
def receiver():
    """A partner's webhook receiver on 127.0.0.1 (tests/receivers.py)."""
    from tests.receivers import WebhookReceiver

    server = WebhookReceiver()
    yield server
    server.close()
