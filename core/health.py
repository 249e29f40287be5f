"""Readiness: can this process serve? The database (migrated), the cache, the broker and the
Celery workers, each checked by django-health-check's probes (and two of ours)."""

import asyncio
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from health_check.base import HealthCheck, HealthCheckResult
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from kombu import Connection
from kombu.exceptions import OperationalError

OK = "ok"
# Seconds a dependency has to answer: a probe must answer well within its orchestrator's timeout.
BROKER_TIMEOUT = 2
WORKERS_REPLY_SECONDS = 1.0


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration the code ships is applied: new code waits for its `migrate`."""

    alias: str = DEFAULT_DB_ALIAS

    def run(self) -> None:
        connection = connections[self.alias]
        try:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as error:
            raise ServiceUnavailable("Database unreachable") from error
        finally:
            connection.close()  # this probe's thread's own connection
        if pending:
            names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending)
            raise ServiceUnavailable(f"Migrations not applied: {names}")


@dataclasses.dataclass
class Broker(HealthCheck):
    """Celery's broker (settings.CELERY_BROKER_URL) accepts a connection."""

    def run(self) -> None:
        broker = Connection(
            settings.CELERY_BROKER_URL,
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            connect_timeout=BROKER_TIMEOUT,
        )
        try:
            broker.ensure_connection(max_retries=0)
        except OperationalError as error:
            raise ServiceUnavailable("Broker unreachable") from error
        finally:
            broker.release()


@dataclasses.dataclass
class Workers(HealthCheck):
    """A live Celery worker reads the project's task queue.

    One broadcast, answered by every live worker with the queues it reads. (django-health-check's
    Ping sends two, a ping then this one, within a budget of its ping timeout plus one second,
    which a loaded machine overruns.)"""

    timeout: timedelta = dataclasses.field(default=timedelta(seconds=3), repr=False)

    def run(self) -> None:
        queue = current_app.conf.task_default_queue
        try:
            replies = current_app.control.inspect(timeout=WORKERS_REPLY_SECONDS).active_queues()
        except (OperationalError, OSError) as error:
            raise ServiceUnavailable("Broker unreachable") from error
        if not replies:
            raise ServiceUnavailable("No worker answered")
        if not any(read["name"] == queue for reads in replies.values() for read in reads):
            raise ServiceUnavailable(f"No worker reads the queue {queue}")


# What /readyz reports, by name.
READINESS_CHECKS: dict[str, Callable[[], HealthCheck]] = {
    "database": Database,
    "migrations": Migrations,
    "cache": Cache,
    "broker": Broker,
    "workers": Workers,
}


def readiness() -> dict[str, str]:
    """Each dependency's state, checked side by side: "ok", or what is wrong with it.

    The probes' event loop runs in a thread of its own, so that any caller may ask: a WSGI
    thread, or one that already runs a loop of its own (Playwright's, in the tests)."""
    names = list(READINESS_CHECKS)

    async def check_all() -> list[HealthCheckResult]:
        return await asyncio.gather(*(READINESS_CHECKS[name]().get_result() for name in names))

    with ThreadPoolExecutor(max_workers=1) as loop_thread:
        results = loop_thread.submit(asyncio.run, check_all()).result()
    return {
        name: OK if result.error is None else str(result.error)
        for name, result in zip(names, results, strict=True)
    }
