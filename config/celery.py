import os

from celery import Celery
from celery.signals import (
    before_task_publish,
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
    task_success,
    worker_init,
)
from django.conf import settings

from core.logging import add_context_to_task, bind_task_context, unbind_task_context
from core.metrics import (
    count_task_failure,
    count_task_retry,
    count_task_success,
    serve_worker_metrics,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("quorum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The log context of the request that queued a task follows it to the worker (core.logging).
before_task_publish.connect(add_context_to_task, weak=False)
task_prerun.connect(bind_task_context, weak=False)
task_postrun.connect(unbind_task_context, weak=False)
# Task outcomes, counted in the process that ran the task.
task_success.connect(count_task_success, weak=False)
task_failure.connect(count_task_failure, weak=False)
task_retry.connect(count_task_retry, weak=False)


@worker_init.connect(weak=False)
def serve_metrics(**kwargs: object) -> None:
    """A worker's metrics endpoint, when it has an address and a token to ask for."""
    if settings.WORKER_METRICS_ADDRESS and settings.METRICS_TOKEN:
        serve_worker_metrics(address=settings.WORKER_METRICS_ADDRESS, token=settings.METRICS_TOKEN)
