"""The Redis cache (portal/cache.py) makes one Redis client per connection pool and uses it
for every call, where Django's made one per call (60 µs of CPU each: a third of a rate-limit
count). Pinned here as the query-count tests pin statements; the speed is the bench's."""

import threading
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the cache is Redis only with Redis")


def test_every_call_uses_one_client():
    client = cache._cache.get_client()
    key = f"test:{uuid.uuid4()}"
    cache.set(key, {"answer": 42}, 60)
    assert cache.get(key) == {"answer": 42}
    assert cache.add(f"{key}:n", 0, 60) and cache.incr(f"{key}:n", 2) == 2
    assert cache._cache.get_client() is client
    assert cache._cache.get_client(key, write=True) is client  # one server: one pool


def test_each_thread_has_its_own_and_both_work():
    # Django's caches are per thread (each its own client, pools and now Redis client).
    seen = {}

    def use(name: str) -> None:
        from django.core.cache import caches

        mine = caches["default"]
        key = f"test:{uuid.uuid4()}"
        mine.set(key, name, 60)
        seen[name] = (mine.get(key), mine._cache.get_client())

    threads = [threading.Thread(target=use, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen["a"][0] == "a" and seen["b"][0] == "b"
    assert seen["a"][1] is not seen["b"][1]
