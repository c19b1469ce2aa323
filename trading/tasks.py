from celery import shared_task
from django.db import InterfaceError, OperationalError

from trading.clearing.tasks import run_clearing_morning, write_clearing_files
from trading.market import market_data


@shared_task(acks_late=True)
def record_daily_closes() -> int:
    """Store the closing prices of the last session that has closed (run after 16:00 New
    York time; a late or repeated run stores the same rows)."""
    return market_data.record_daily_closes()


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=5,
)
def take_account_snapshots() -> int:
    """Snapshot every open account at the last close (run after the daily closes are
    recorded); a repeated run replaces the same rows. Returns the accounts snapshotted."""
    from trading.reporting.snapshots import take_snapshots_after_close

    return take_snapshots_after_close().accounts


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=60,
    max_retries=5,
)
def compute_monthly_statistics(month: str | None = None) -> list[str]:
    """Compute the month that just closed (America/Chicago), or `month` ("YYYY-MM"), and
    store it. Idempotent: a retry or a second run replaces the same row."""
    from trading.reporting.models import MonthlyStatistics
    from trading.reporting.statistics import compute_closed_month, compute_month, parse_month

    if month:
        rows = [compute_month(parse_month(month), source=MonthlyStatistics.Source.SCHEDULE)]
    else:
        rows = compute_closed_month()
    return [row.month.strftime("%Y-%m") for row in rows]


@shared_task(ignore_result=True, expires=10)
def follow_trailing_stops() -> int:
    """Follow the trailing stops' high-water marks and route those triggered (every few
    seconds from beat; a run that overlaps another routes nothing twice: row locks)."""
    from trading.orders import classes

    return classes.follow_trailing_stops()


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def send_fill_emails(self, execution_ids: list[int]) -> int:
    """The e-mails of fills written together, each unless its account's
    trade_confirm_email is none; a mail server that fails is tried again for the fills
    not yet mailed. Returns how many were sent."""
    from trading.orders import fill_emails

    sent = 0
    for index, execution_id in enumerate(execution_ids):
        try:
            sent += fill_emails.send_fill_email(execution_id)
        except OSError as exc:
            raise self.retry(exc=exc, args=[execution_ids[index:]]) from exc
    return sent


__all__ = [
    "compute_monthly_statistics",
    "follow_trailing_stops",
    "record_daily_closes",
    "run_clearing_morning",
    "send_fill_emails",
    "take_account_snapshots",
    "write_clearing_files",
]
