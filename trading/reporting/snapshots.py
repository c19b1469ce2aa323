"""Daily account snapshots: every open account's value at a trading day's close.

One SQL statement per day, aggregated in the database and upserted (a day taken again
replaces its rows):

    cash           = sum of the account's cash postings effective on or before the day
                     (JournalEntry.effective_on: a fill's trade date, else the day posted)
    net_transfers  = the part of that cash that came from deposits less withdrawals (and
                     their reversals)
    positions      = securities held at the day's end (executions up to then: buy +, sell -;
                     and position adjustments effective by the day: a split from its
                     ex-date, so the shares match that day's closing price)
    market_value   = sum of quantity x the latest close on or before the day (DailyClose);
                     a holding with no close recorded yet is valued at nothing
    equity         = cash + market_value

The CTEs are MATERIALIZED (PostgreSQL 12+, SQLite 3.35+): inlined, SQLite re-evaluated
them per row, 25 times slower.

"Open on the day" means open at the end of the day in the firm's time zone: opened before
midnight, and not closed before it.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from accounts.money.models import JournalEntryKind, LedgerAccountKind
from trading.market import market_data
from trading.market.calendar import nyse
from trading.market.models import DailyClose
from trading.orders.models import OrderSide


def end_of_day(day: date) -> datetime:
    """Midnight after `day` in the firm's time zone (aware)."""
    return datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=timezone.get_default_timezone()
    )


def trading_days(first: date, last: date) -> list[date]:
    """NYSE sessions from `first` to `last`, both included."""
    if last < first:
        return []
    return [stamp.date() for stamp in nyse().sessions_in_range(first, last)]


def last_trading_day_of_month(year: int, month: int) -> date | None:
    """The month's last NYSE session (None for a month without one in the calendar)."""
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    days = trading_days(first, last)
    return days[-1] if days else None


SNAPSHOT_SQL = """
WITH open_accounts AS MATERIALIZED (
    SELECT a.id AS account_id
    FROM accounts_account a
    WHERE a.opened_at < %s AND (a.closed_at IS NULL OR a.closed_at >= %s)
),
cash AS MATERIALIZED (
    SELECT la.account_id,
           SUM(p.amount) AS cash,
           SUM(CASE WHEN e.kind IN (%s, %s) OR r.kind IN (%s, %s)
                    THEN p.amount ELSE 0 END) AS net_transfers
    FROM accounts_posting p
    JOIN accounts_journalentry e ON e.id = p.entry_id
    LEFT JOIN accounts_journalentry r ON r.id = e.reverses_id
    JOIN accounts_ledgeraccount la ON la.id = p.ledger_account_id
    WHERE la.kind = %s AND e.effective_on <= %s
    GROUP BY la.account_id
),
holdings AS MATERIALIZED (
    SELECT m.account_id, m.security_id, SUM(m.qty) AS qty
    FROM (
        SELECT o.account_id, o.security_id,
               CASE WHEN o.side = %s THEN x.qty ELSE -x.qty END AS qty
        FROM trading_execution x
        JOIN trading_order o ON o.id = x.order_id
        WHERE x.executed_at < %s AND (x.busted_at IS NULL OR x.busted_at >= %s)
        UNION ALL
        SELECT a.account_id, a.security_id, a.qty_change
        FROM trading_positionadjustment a
        WHERE a.effective_on <= %s
    ) m
    GROUP BY m.account_id, m.security_id
    HAVING SUM(m.qty) <> 0
),
closes AS MATERIALIZED (
    SELECT c.security_id, c.close
    FROM trading_dailyclose c
    WHERE c.security_id IN (SELECT security_id FROM holdings)
      AND c.date = (SELECT MAX(c2.date) FROM trading_dailyclose c2
                    WHERE c2.security_id = c.security_id AND c2.date <= %s)
),
valued AS MATERIALIZED (
    SELECT h.account_id,
           SUM(h.qty * COALESCE(cl.close, 0)) AS market_value,
           COUNT(*) AS positions
    FROM holdings h
    LEFT JOIN closes cl ON cl.security_id = h.security_id
    GROUP BY h.account_id
)
INSERT INTO trading_accountsnapshot
    (account_id, date, cash, market_value, equity, net_transfers, positions, created_at)
SELECT oa.account_id, %s,
       ROUND(COALESCE(c.cash, 0), 2),
       ROUND(COALESCE(v.market_value, 0), 2),
       ROUND(COALESCE(c.cash, 0), 2) + ROUND(COALESCE(v.market_value, 0), 2),
       ROUND(COALESCE(c.net_transfers, 0), 2),
       COALESCE(v.positions, 0),
       %s
FROM open_accounts oa
LEFT JOIN cash c ON c.account_id = oa.account_id
LEFT JOIN valued v ON v.account_id = oa.account_id
WHERE 1 = 1
ON CONFLICT (account_id, date) DO UPDATE SET
    cash = excluded.cash,
    market_value = excluded.market_value,
    equity = excluded.equity,
    net_transfers = excluded.net_transfers,
    positions = excluded.positions,
    created_at = excluded.created_at
"""


@dataclass(frozen=True)
class SnapshotResult:
    day: date
    accounts: int


def take_snapshots(day: date) -> SnapshotResult:
    """Write (or replace) the snapshot of every account open on `day`, valued at the
    latest closing prices on or before it. Accounts closed since the last run keep
    their earlier rows; a replaced day drops rows of accounts no longer open on it."""
    ops = connection.ops
    end = ops.adapt_datetimefield_value(end_of_day(day))
    on = ops.adapt_datefield_value(day)
    params = [
        end,
        end,
        JournalEntryKind.DEPOSIT.value,
        JournalEntryKind.WITHDRAWAL.value,
        JournalEntryKind.DEPOSIT.value,  # a reversed deposit or withdrawal is a transfer too
        JournalEntryKind.WITHDRAWAL.value,
        LedgerAccountKind.CUSTOMER_CASH.value,
        on,
        OrderSide.BUY.value,
        end,
        end,  # a fill busted by the end of the day holds nothing
        on,  # splits and other position adjustments effective by the day
        on,
        on,
        ops.adapt_datetimefield_value(timezone.now()),
    ]
    from trading.reporting.models import AccountSnapshot

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(SNAPSHOT_SQL, params)
        # Re-taking a day after an account's opening or closing date was corrected.
        AccountSnapshot.objects.filter(date=day).exclude(
            account__opened_at__lt=end_of_day(day)
        ).delete()
        AccountSnapshot.objects.filter(date=day, account__closed_at__lt=end_of_day(day)).delete()
        count = AccountSnapshot.objects.filter(date=day).count()
    return SnapshotResult(day, count)


def take_snapshots_after_close(at: datetime | None = None) -> SnapshotResult:
    """Snapshots of the last session that has closed (what the beat task runs after the
    close); records that session's closing prices first if they are missing."""
    session = market_data.last_closed_session(at)
    if not DailyClose.objects.filter(date=session.day).exists():
        market_data.record_daily_closes(session.day)
    return take_snapshots(session.day)
