"""Counts a page shows on every view, kept in the cache: counting 100,000 rows costs ~7 ms.

A count is kept under a version of its own (core.versioned) that the service changing what is
counted renews once its transaction commits, in the one cache call that renews the tables it
wrote: never a stale count, and no cache call of its own for each of an identity provider's
thousands of people. Until then the transaction's own reads count anew (they see its rows); the
others keep the old count, still true for them."""

from typing import Any

from django.db.models import QuerySet

from core.tables import note_read
from core.versioned import changed_here, current_versions, keep, read_kept, renew_at_commit

# Bounds only what writes outside Django leave: the versions keep a count fresh.
KEEP_SECONDS = 3600


def _name(key: str) -> str:
    return f"count:{key}"


def kept_count(key: str, queryset: QuerySet[Any]) -> int:
    note_read(queryset)
    name = _name(key)  # the count's cache key, and the name of its version
    if changed_here([name]):
        return queryset.count()  # changed by this transaction, not committed yet: not kept
    kept = read_kept(name)
    if kept is not None:
        return int(kept[0])
    versions = current_versions([name])  # before the rows it counts
    count = queryset.count()
    keep(name, count, versions, KEEP_SECONDS)
    return count


def forget_count(key: str) -> None:
    """Counted anew once the change is committed (at once outside a transaction)."""
    renew_at_commit([_name(key)])
