"""core.cache: production's Redis cache keeps Django's behaviour with one client per pool."""

import secrets

from django.conf import settings

from core.cache import ReusedClientRedisCache


def test_one_client_serves_every_call_and_values_round_trip():
    # The tests' broker is a Redis server; keys of their own, removed at the end.
    cache = ReusedClientRedisCache(settings.CELERY_BROKER_URL, {})
    key = f"test-cache-{secrets.token_hex(8)}"
    try:
        cache.set(key, {"role": "admin"}, 30)
        assert cache.get(key) == {"role": "admin"}
        assert cache.get_many([key, f"{key}-none"]) == {key: {"role": "admin"}}
        assert cache.add(key, "other", 30) is False
        cache.delete(key)
        assert cache.get(key) is None
        client = cache._cache.get_client()
        assert cache._cache.get_client(write=True) is client
    finally:
        cache.delete(key)
