"""Celery tasks of funding."""

from celery import shared_task
from django.conf import settings

from accounts.money import funding


@shared_task(name="accounts.tasks.run_ach_simulator", acks_late=True)
def run_ach_simulator() -> dict:
    """The embedded run's ACH processor: settles transfers after a delay."""
    if not settings.ACH_SIMULATOR:
        return {}
    return funding.run_ach_simulator()
