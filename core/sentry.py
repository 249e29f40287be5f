"""Error reporting to Sentry, on when SENTRY_DSN is set: unhandled errors of views and tasks,
tagged with the log context (request id, tenant, user, task) of core.logging."""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.types import Event, Hint

from core.logging import current


def _tag_with_log_context(event: Event, hint: Hint) -> Event:
    tags = event.setdefault("tags", {})
    tags.update({name: str(value) for name, value in current().items() if value is not None})
    return event


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    """Report to `dsn`; no personal data (e-mail addresses, cookies) leaves with an event."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=_tag_with_log_context,
    )
