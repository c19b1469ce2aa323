"""Writing the account event log: one INSERT in the caller's transaction, so an event
exists exactly when its change does (a rolled-back change leaves none).

On PostgreSQL a statement trigger (migration 0011) sends NOTIFY on commit, which wakes
the stream servers; they read the rows themselves (accounts/events/feed.py)."""

from collections.abc import Iterable

from django.utils import timezone

from accounts.events.models import AccountEvent

CHANNEL = "rushtrade_account_events"


def record(account_id: int, kind: str, payload: dict) -> None:
    """One event of `account_id`, in the current transaction."""
    AccountEvent.objects.create(
        account_id=account_id, kind=kind, payload=payload, created_at=timezone.now()
    )


def record_many(events: Iterable[dict]) -> None:
    """Events as dicts of account_id, kind and payload, in one INSERT (ids in order)."""
    now = timezone.now()
    rows = [AccountEvent(created_at=now, **event) for event in events]
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    elif rows:
        AccountEvent.objects.bulk_create(rows)
