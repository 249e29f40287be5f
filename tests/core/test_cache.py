"""core.cache: production's Redis cache keeps Django's behaviour with one client per pool."""

import secrets

import pytest
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


def test_incr_counts_an_existing_key_in_one_round_trip_and_refuses_a_missing_one():
    cache = ReusedClientRedisCache(settings.CELERY_BROKER_URL, {})
    key = f"test-cache-{secrets.token_hex(8)}"
    try:
        with pytest.raises(ValueError):
            cache.incr(key)
        assert cache.get(key) is None  # not created by the refused count
        cache.add(key, 0, 30)
        assert cache.incr(key) == 1
        assert cache.incr(key, 5) == 6
        assert cache.get(key) == 6
        client = cache._cache.get_client(write=True)
        assert 0 < client.ttl(cache.make_key(key)) <= 30  # the count keeps the expiry
        sent = []
        original = client.execute_command
        client.execute_command = lambda *args, **kwargs: (
            sent.append(args[0]) or original(*args, **kwargs)
        )
        try:
            assert cache.incr(key) == 7
        finally:
            del client.execute_command
        assert sent == ["EVALSHA"]
    finally:
        cache.delete(key)
