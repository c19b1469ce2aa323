"""Celery tasks of the simulators (found by Celery's autodiscovery of this app)."""

from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from trading.market.calendar import is_trading_day


@shared_task(name="trading.simulation.tasks.run_clearing_firm", acks_late=True)
def run_clearing_firm(business_date: str | None = None) -> list[str]:
    """The embedded run's clearing firm: answers the day's outbound files (does nothing
    unless CLEARING_SIMULATOR, or on a day that is no NYSE session)."""
    from trading.simulation import clearing_firm

    if not settings.CLEARING_SIMULATOR:
        return []
    day = date.fromisoformat(business_date) if business_date else timezone.localdate()
    if not business_date and not is_trading_day(day):
        return []
    return [path.name for path in clearing_firm.answer(day).files]
