"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's RedisCacheClient.get_client() wraps its pool in a new `redis.Redis` for every cache
operation, and building one (its table of some 170 reply callbacks) costs about 60 µs of CPU:
a rate-limit count, one pipelined round trip to Redis, spent a third of its time making the
client (docs/performance.md, "Sixth round"). A client holds no connection of its own — each
command takes one from the pool — so one per pool serves every call, as redis-py intends.
"""

from typing import Any

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own pool and client class (private: missing from django-stubs).
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))  # the pools live as long as this object
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(django_redis.RedisCache):
    """settings.CACHES' backend when Redis is configured."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
