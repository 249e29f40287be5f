"""Values kept in the cache under versions that every change bumps, so that a change is seen on
the very next read: never a stale value, whatever the expiry.

A version is a random token under `version:<name>`, kept without expiry. A value is kept with the
tokens it was built at, read BEFORE the rows it was built from; it counts only while each of them
is still current. A change bumps its versions now and again once committed: a reader between the
two saw the old rows, and its value is refused by the second bump. A lost version (a Redis restart,
an eviction) gets a new token, which no kept value carries."""

import secrets
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction


def _key(name: str) -> str:
    return f"version:{name}"


def current_versions(names: Iterable[str]) -> dict[str, str]:
    """The current token of each name, a new one where there was none."""
    names = list(names)
    found = cache.get_many([_key(name) for name in names])
    versions = {}
    for name in names:
        token = found.get(_key(name))
        if token is None:
            cache.add(_key(name), secrets.token_hex(8), None)  # another reader may have won
            token = cache.get(_key(name))
        versions[name] = token
    return versions


def read_kept(key: str) -> Any | None:
    """The value kept under `key`, or None when there is none or one of its versions moved on."""
    kept = cache.get(key)
    if kept is None:
        return None
    value, versions = kept
    found = cache.get_many([_key(name) for name in versions])
    if any(found.get(_key(name)) != token for name, token in versions.items()):
        return None
    return value


def keep(key: str, value: Any, versions: dict[str, str], seconds: int) -> None:
    """Keep `value`, built from rows read after `versions` were (current_versions)."""
    cache.set(key, (value, versions), seconds)


def bump(name: str) -> None:
    """Now, and again once the change is committed (a reader in between saw the old rows)."""

    def new_token() -> None:
        cache.set(_key(name), secrets.token_hex(8), None)

    new_token()
    transaction.on_commit(new_token)
