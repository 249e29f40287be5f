"""Which tables each SQL statement touches, and a version per table (core.versioned) that every
committed write to it renews, whoever writes: the ORM, a bulk `update()`, `INSERT ... SELECT`
or raw SQL, since every statement goes through Django's cursor and this wrapper sees it.

A statement is a write when it holds a data-changing keyword anywhere (a `SELECT ... FOR UPDATE`
counts too: renewing once too often costs a render, never a stale page). Its tables are every
table of ours its text names, so a table named only in a subquery is renewed too. Inside a
transaction the tables are renewed once it commits (a reader in between reads the old rows under
the old version), and kept meanwhile as written by this connection, whose own later reads see the
uncommitted rows (core.versioned then neither serves nor keeps a value built from them). A rolled
back transaction renews nothing: its rows never changed."""

import functools
import re
from collections.abc import Callable
from typing import Any, cast

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

from core.versioned import (
    Reads,
    keep,
    read_kept,
    reading,
    renew,
    renew_at_commit,
)

WRITE = re.compile(r"\b(insert|update|delete|merge|truncate|alter|create|drop|copy)\b", re.I)


def version_name(table: str) -> str:
    return f"table:{table}"


# Words that may name a table of ours (each has an app's prefix): one pass over the statement,
# which a bulk insert of 100,000 rows makes 1.8 MB long (one alternation of every table name
# took 0.88 s there, this 0.04 s).
WORD = re.compile(r"[a-z][a-z0-9_]*_[a-z0-9_]+", re.I)


@functools.cache
def _table_names() -> frozenset[str]:
    models = apps.get_models(include_auto_created=True)
    return frozenset(model._meta.db_table.lower() for model in models)


def tables_in(sql: str) -> frozenset[str]:
    return frozenset(word.lower() for word in WORD.findall(sql)) & _table_names()


# Django sends the same statements again and again, their values bound apart: each is read once.
# Longer ones (a bulk insert's, of one length per number of rows) are read each time, not kept.
KEPT_STATEMENT_LENGTH = 4096


def _read(sql: str) -> tuple[bool, frozenset[str]]:
    """Whether the statement writes, and the tables of ours it names."""
    return WRITE.search(sql) is not None, tables_in(sql)


_kept_reading = functools.lru_cache(maxsize=1024)(_read)


def _reading(sql: str) -> tuple[bool, frozenset[str]]:
    return _read(sql) if len(sql) > KEPT_STATEMENT_LENGTH else _kept_reading(sql)


def note_read(queryset: QuerySet[Any]) -> None:
    """A read answered from the cache instead of the database (core.counts): its tables count."""
    if (reads := reading.get()) is not None:
        reads.add(version_name(table) for table in tables_in(str(queryset.query)))


def _wrote(connection: BaseDatabaseWrapper, tables: frozenset[str]) -> None:
    names = [version_name(table) for table in tables]
    if not connection.in_atomic_block and not connection.get_autocommit():
        # A transaction managed by hand has no on_commit: renewed now, before its commit, so a
        # page built in between is kept at most PAGE_SECONDS.
        renew(names)
        return
    # Once committed (at once when autocommitted), in one cache call with the transaction's
    # other renewals; kept pages are at most PAGE_SECONDS late if the cache cannot be reached.
    renew_at_commit(names, connection)


def _watch(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    connection = context["connection"]
    writes, tables = _reading(sql)
    reads = reading.get()
    if reads is not None:
        if writes:
            reads.wrote = True
        else:
            reads.add(version_name(table) for table in tables)
    result = execute(sql, params, many, context)
    if writes and tables:
        _wrote(connection, tables)
    return result


def watch(connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created's receiver: each connection's statements pass through `_watch`."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def kept_read[T](key: str, read: Callable[[], T], seconds: int) -> T:
    """`read()`'s value, kept under the versions of the tables it read: read again once one of
    them moved, so never stale; `seconds` bounds only what writes outside Django leave. None is
    not kept: keys nobody holds (a guessed token's, say) would only fill the cache."""
    kept = read_kept(key)  # a value served counts its versions in the outer reading
    if kept is not None:
        return cast(T, kept[0])
    reads = Reads()
    token = reading.set(reads)
    try:
        value = read()
    finally:
        reading.reset(token)
    if value is not None and not reads.wrote:
        keep(key, value, reads.versions, seconds)
    if (outer := reading.get()) is not None:  # a page built with this value depends on them too
        outer.add_taken(reads.versions)
    return value
