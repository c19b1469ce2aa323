"""Celery tasks of the clearing cycle (registered under `trading.tasks.*`, the names the
beat schedule uses)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    name="trading.tasks.write_clearing_files",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=60,
    max_retries=5,
)
def write_clearing_files() -> list[str]:
    """After the close: the day's trades, accounts and money files (once a day)."""
    from trading.clearing import cycle

    result = cycle.evening()
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
