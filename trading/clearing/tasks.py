"""Celery tasks of the clearing cycle (registered under `trading.tasks.*`, the names the
beat schedule uses)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


class DeliveryFailed(Exception):
    """Some outbound files could not be delivered by SFTP: the task runs again."""


@shared_task(
    name="trading.tasks.write_clearing_files",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError, DeliveryFailed),
    retry_backoff=60,
    max_retries=8,
)
def write_clearing_files() -> list[str]:
    """After the close: the day's trades, accounts and money files (once a day), then
    their SFTP delivery when configured; files not delivered make the task retry (with
    back-off; the morning run tries them again too)."""
    from trading.clearing import cycle

    result = cycle.evening()
    delivery = cycle.deliver()
    if delivery and delivery.failed:
        raise DeliveryFailed(", ".join(delivery.failed))
    return [row.name for row in result.files] if result else []


@shared_task(
    name="trading.tasks.run_clearing_morning",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=60,
    max_retries=5,
)
def run_clearing_morning() -> dict:
    """Before the open: load the clearing firm's files, apply corporate actions due,
    reconcile."""
    from trading.clearing import cycle

    return vars(cycle.morning())
