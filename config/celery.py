import logging
import os

from celery import Celery
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("quorum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue(task, *args, **options):
    """Queue `task`; when the broker is unreachable, log it and go on.

    The work is never lost with the message: every task we queue has a beat job that re-queues
    what is still due (overdue DNS checks, unfinished announcements) once the broker is back, so
    a page never fails because Redis is down."""
    try:
        return task.apply_async(args, **options)
    except OperationalError:
        logger.warning("Broker unreachable: %s%r left for its beat job", task.name, args)
        return None
