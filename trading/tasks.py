from celery import shared_task

from . import market_data


@shared_task(acks_late=True)
def record_daily_closes() -> int:
    """Store the closing prices of the last session that has closed (run after 16:00 New
    York time; a late or repeated run stores the same rows)."""
    return market_data.record_daily_closes()
