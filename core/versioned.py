"""Values kept in the cache under versions that every change renews, so that a change is seen on
the very next read: never a stale value, whatever the expiry.

A version is a random token under `version:<name>`, kept without expiry. A value is kept with the
tokens it was built at, read BEFORE the rows it was built from; it counts only while each of them
is still current. A change renews its versions once its transaction commits, all in one cache call
(at once outside a transaction): a value read before then, old rows or new, is refused from then
on. Until the commit, the changing transaction's own reads see its rows and nobody else's do, so
for that transaction a value under one of those versions is neither served nor kept; the others
keep the old one, still true for them. A lost version (a Redis restart, an eviction) gets a new
token, which no kept value carries."""

import secrets
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper


def version_key(name: str) -> str:
    """The cache key of the version `name`."""
    return f"version:{name}"


def current_versions(names: Iterable[str]) -> dict[str, str]:
    """The current token of each name, a new one where there was none."""
    names = list(names)
    found = cache.get_many([version_key(name) for name in names])
    versions = {}
    for name in names:
        token = found.get(version_key(name))
        if token is None:
            cache.add(version_key(name), secrets.token_hex(8), None)  # another reader may have won
            token = cache.get(version_key(name))
        versions[name] = token
    return versions


class Reads:
    """The versions a computation read (core.pagecache's render), each taken before its rows."""

    def __init__(self) -> None:
        self.versions: dict[str, str] = {}
        self.wrote = False

    def add(self, names: Iterable[str]) -> None:
        new = [name for name in names if name not in self.versions]
        if new:
            self.versions |= current_versions(new)

    def add_taken(self, versions: dict[str, str]) -> None:
        """Versions already taken before their rows were read (a kept value built under them)."""
        for name, token in versions.items():
            self.versions.setdefault(name, token)


# The computation reading now, if one is noting what it reads (core.tables notes its statements).
reading: ContextVar[Reads | None] = ContextVar("reading", default=None)


# The names of the versions each key was last kept under, in this process: a kept value and its
# versions' tokens are then read in one cache call. Names only, never values. Bounded: forgotten
# wholesale when full (each key then costs one more call, once).
_NAMES_KEPT_UNDER: dict[str, tuple[str, ...]] = {}
NAMES_KEPT_UNDER_KEYS = 4096


def _remember(key: str, names: Iterable[str]) -> None:
    if len(_NAMES_KEPT_UNDER) >= NAMES_KEPT_UNDER_KEYS:
        _NAMES_KEPT_UNDER.clear()
    _NAMES_KEPT_UNDER[key] = tuple(names)


def read_kept(key: str) -> tuple[Any, dict[str, str]] | None:
    """The value kept under `key` and the versions it was kept at, or None when there is none, one
    of its versions moved on, or this connection's open transaction changed its rows. One cache
    call when this process kept or read `key` before; a second one for the tokens of versions it
    did not know the key was kept under."""
    names = _NAMES_KEPT_UNDER.get(key, ())
    found = cache.get_many([key, *(version_key(name) for name in names)])
    kept = found.pop(key, None)
    if kept is None:
        return None
    value, versions = kept
    if changed_here(versions):
        return None
    if unasked := [version_key(name) for name in versions if name not in names]:
        found |= cache.get_many(unasked)
    _remember(key, versions)
    if any(found.get(version_key(name)) != token for name, token in versions.items()):
        return None
    if (reads := reading.get()) is not None:
        reads.add_taken(versions)
    return value, versions


def keep(key: str, value: Any, versions: dict[str, str], seconds: int) -> None:
    """Keep `value`, built from rows read after `versions` were (current_versions); not when this
    connection's open transaction changed some of those rows, which nobody else sees yet."""
    if changed_here(versions):
        return
    cache.set(key, (value, versions), seconds)
    _remember(key, versions)


def renew(names: Iterable[str]) -> None:
    """New tokens for `names` now (their change is committed)."""
    cache.set_many({version_key(name): secrets.token_hex(8) for name in names}, None)


# The connection's attribute holding its open transaction's names to renew, and their renewal.
AT_COMMIT = "quorum_renew_at_commit"


def renewing_at_commit(connection: BaseDatabaseWrapper) -> set[str]:
    """The names the connection's open transaction renews once it commits (none outside one)."""
    state: tuple[Callable[[], None], set[str]] | None = getattr(connection, AT_COMMIT, None)
    if state is None:
        return set()
    renewal, pending = state
    # Django forgets a callback when its transaction (or savepoint) rolls back, and runs it once
    # committed: either way these names are no longer waiting for a commit.
    if any(entry[1] is renewal for entry in connection.run_on_commit):
        return pending
    setattr(connection, AT_COMMIT, None)
    return set()


def changed_here(names: Iterable[str]) -> bool:
    """Whether the default connection's open transaction renews one of `names` once it commits:
    it changed their rows, which its own reads see and nobody else's do yet."""
    pending = renewing_at_commit(connections[DEFAULT_DB_ALIAS])
    return bool(pending) and any(name in pending for name in names)


def renew_at_commit(names: Iterable[str], connection: BaseDatabaseWrapper | None = None) -> None:
    """Renew `names` once the connection's transaction commits, with every other name that
    transaction renews in the same cache call (at once when there is no transaction).

    Robust: a cache that cannot be reached is logged, not raised into a write already committed."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    if pending := renewing_at_commit(connection):
        pending.update(names)
        return
    pending = set(names)

    def renewal() -> None:
        setattr(connection, AT_COMMIT, None)
        renew(pending)

    if connection.in_atomic_block:
        setattr(connection, AT_COMMIT, (renewal, pending))
    transaction.on_commit(renewal, using=connection.alias, robust=True)
