"""One beat at a time, however many are started: each beat takes a lease in the cache (Redis in
production, shared by every machine) before it sends anything, and only the holder sends the
schedule. A second beat started by mistake (or a standby) waits; it takes over when the holder
stops renewing its lease (stopped, or dead for LEASE_SECONDS). The sweeps it sends are also safe
to run twice (each task says why), so the lease keeps the schedule from doubling, not the data
from breaking."""

import logging
import os
import socket
import uuid
from typing import Any

from celery.beat import PersistentScheduler
from django.core.cache import cache

logger = logging.getLogger(__name__)

LEASE_KEY = "quorum:beat:lease"
# How long a beat that stopped renewing keeps the schedule to itself. The holder renews every
# third of it, so a slow tick never loses the lease.
LEASE_SECONDS = 60.0


class SingleBeatScheduler(PersistentScheduler):
    """Celery's file-backed scheduler, sending only while it holds the beat lease."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lease_token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self.leading: bool | None = None  # logged when it first knows, then at each change
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.holds_lease():
            return LEASE_SECONDS / 3
        return min(float(super().tick(*args, **kwargs)), LEASE_SECONDS / 3)

    def holds_lease(self) -> bool:
        """Take the lease when free, or renew it when ours; False while another beat holds it."""
        timeout = int(LEASE_SECONDS)
        held = cache.add(LEASE_KEY, self.lease_token, timeout=timeout) or (
            cache.get(LEASE_KEY) == self.lease_token and cache.touch(LEASE_KEY, timeout)
        )
        if held != self.leading:
            logger.info(
                "beat %s the schedule",
                "now sends" if held else "waits: another beat sends",
                extra={"beat": self.lease_token},
            )
            self.leading = bool(held)
        return bool(self.leading)

    def close(self) -> None:
        super().close()
        if cache.get(LEASE_KEY) == self.lease_token:
            cache.delete(LEASE_KEY)  # a beat stopped on purpose hands over at once
