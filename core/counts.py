"""Counts a page shows on every view, kept a short while: counting 100,000 rows costs ~7 ms.

The service that changes what is counted forgets the count, so a person sees their own change
at once; the expiry bounds what a change racing a recount can leave behind."""

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from core.tables import note_read

KEEP_SECONDS = 60


def kept_count(key: str, queryset: QuerySet[Any]) -> int:
    note_read(queryset)
    return int(cache.get_or_set(f"count:{key}", queryset.count, KEEP_SECONDS) or 0)


def forget_count(key: str) -> None:
    """Now, and again once the change is committed (a recount in between saw the old rows)."""
    cache.delete(f"count:{key}")
    transaction.on_commit(lambda: cache.delete(f"count:{key}"))
