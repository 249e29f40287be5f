"""Celery tasks of licensing: thin wrappers around the services, safe to deliver twice."""

from celery import shared_task

from .services.webhooks import end_overdue_subscriptions


@shared_task(name="licensing.end_overdue_subscriptions", acks_late=True, ignore_result=True)
def end_overdue_subscriptions_task() -> int:
    """Beat job: tenants whose payment stayed failed beyond the grace period fall back to free."""
    return end_overdue_subscriptions()
