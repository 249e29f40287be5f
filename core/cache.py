"""Django's Redis cache, with one `redis.Redis` client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` on every cache call, and its
constructor fills some 80 response callbacks: about 0.2 ms each time, several times a request.
A client holds no connection of its own (it takes one from the pool per command, and the pool
starts afresh in a forked worker), so one client per pool serves every call and thread.

Django's `incr` asks EXISTS, then INCRBY: two round trips for each counter a request bumps (the
SCIM rate limit, on every one of an identity provider's calls), and a key expiring in between
would come back without its expiry. One script does both at once, atomically. And values kept
without expiry (core.versioned's versions) are set with one MSET, not in a MULTI ... EXEC."""

from collections.abc import Mapping
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return false
"""


class ReusedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._incr_scripts: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own attributes, which its type stubs leave out.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client

    def set_many(self, data: Mapping[Any, Any], timeout: Any) -> None:
        if timeout is not None:
            super().set_many(data, timeout)
            return
        # Without an expiry, one MSET (atomic itself) instead of Django's MULTI, MSET, EXEC.
        client = self.get_client(None, write=True)
        client.mset({key: self._serializer.dumps(value) for key, value in data.items()})  # type: ignore[attr-defined]

    def incr(self, key: Any, delta: int) -> int:
        client = self.get_client(key, write=True)
        script = self._incr_scripts.get(id(client))
        if script is None:
            script = self._incr_scripts[id(client)] = client.register_script(INCR_EXISTING)
        value = script(keys=[key], args=[delta])
        if value is None:  # as Django's: a missing key is not counted from zero
            raise ValueError(f"Key '{key}' not found.")
        return int(value)


class ReusedClientRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache`, one client per pool (see above)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient
