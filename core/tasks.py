"""Queueing Celery tasks without letting a broker outage break a page."""

import logging
from typing import Any

from celery import Task
from celery.result import AsyncResult
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue(task: Task[Any, Any], *args: Any, **options: Any) -> AsyncResult[Any] | None:
    """Queue `task`; when the broker is unreachable, log it and go on.

    The work is never lost with the message: every task we queue has a beat job that re-queues
    what is still due (overdue DNS checks, unfinished announcements) once the broker is back, so
    a page never fails because Redis is down."""
    try:
        return task.apply_async(args, **options)
    except OperationalError:
        logger.warning("Broker unreachable: %s%r left for its beat job", task.name, args)
        return None
