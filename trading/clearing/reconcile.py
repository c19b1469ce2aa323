"""Reconciliation with the clearing firm's books, set-based: a fixed number of SQL
statements whatever the number of accounts (docs/clearing.md, "Reconciliation").

The portal's side "as of" the close of a business date D is computed from today's
books less what changed after D: fills executed after D, busts after D and position
adjustments effective after D for positions; customer-cash postings settling by D
for settled cash."""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from accounts.money.models import LedgerAccount, LedgerAccountKind, Posting
from accounts.opening.models import Account
from trading.clearing.models import (
    Break,
    ClearingActivity,
    ClearingCash,
    ClearingFile,
    ClearingPosition,
    FileType,
    ReconciliationRun,
)
from trading.market.calendar import nyse
from trading.market.models import Security
from trading.orders.models import Execution, Order, OrderSide, Position, PositionAdjustment

log = logging.getLogger(__name__)

WARN_LINES = 50  # old breaks named one by one in the log, then a count


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def end_of(day: date) -> datetime:
    return start_of(day + timedelta(days=1))


def positions_as_of_sql() -> str:
    """(account_id, security_id, qty) at the close of %(day)s, non-zero only; takes the
    parameters day and end (midnight after it, firm time)."""
    return f"""
        SELECT m.account_id, m.security_id, SUM(m.qty) AS qty FROM (
            SELECT p.account_id, p.security_id, p.qty FROM {_t(Position)} p WHERE p.qty <> 0
            UNION ALL
            SELECT o.account_id, o.security_id,
                   CASE WHEN o.side = '{OrderSide.BUY}' THEN -e.qty ELSE e.qty END
              FROM {_t(Execution)} e JOIN {_t(Order)} o ON o.id = e.order_id
             WHERE e.executed_at >= %(end)s
            UNION ALL
            SELECT o.account_id, o.security_id,
                   CASE WHEN o.side = '{OrderSide.BUY}' THEN e.qty ELSE -e.qty END
              FROM {_t(Execution)} e JOIN {_t(Order)} o ON o.id = e.order_id
             WHERE e.busted_at >= %(end)s
            UNION ALL
            SELECT a.account_id, a.security_id, -a.qty_change FROM {_t(PositionAdjustment)} a
             WHERE a.effective_on > %(day)s
        ) m
        GROUP BY m.account_id, m.security_id
        HAVING SUM(m.qty) <> 0
    """


def positions_as_of(day: date, security: Security) -> list[tuple[int, int]]:
    """(account id, shares) held in `security` at the close of `day`, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT h.account_id, h.qty FROM ({positions_as_of_sql()}) h "
            "WHERE h.security_id = %(security)s ORDER BY h.account_id",
            {"day": day, "end": end_of(day), "security": security.pk},
        )
        return [(row[0], int(row[1])) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Inputs:
    business_date: date
    positions: ClearingFile
    cash: ClearingFile
    activity: ClearingFile


def inputs_for(business_date: date) -> Inputs | None:
    """The loaded POSITIONS, CASH and ACTIVITY files of the date (the latest of each),
    or None while one is missing."""
    found = {}
    for row in ClearingFile.objects.filter(
        direction=ClearingFile.Direction.INBOUND,
        status=ClearingFile.Status.LOADED,
        business_date=business_date,
        file_type__in=(FileType.POSITIONS, FileType.CASH, FileType.ACTIVITY),
    ).order_by("sequence"):
        found[row.file_type] = row
    if len(found) < 3:
        return None
    return Inputs(
        business_date, found[FileType.POSITIONS], found[FileType.CASH], found[FileType.ACTIVITY]
    )


FOUND = "clearing_found"


def _found_statements() -> list[str]:
    """INSERTs of every difference into the temporary table, one per kind of break."""
    account, security = _t(Account), _t(Security)
    cash_file, position_file = _t(ClearingCash), _t(ClearingPosition)
    known_to_both = f"""
        SELECT c.account_number FROM {cash_file} c
          JOIN {account} acc ON acc.account_number = c.account_number
         WHERE c.file_id = %(cash)s AND acc.opened_at < %(end)s"""
    columns = f"INSERT INTO {FOUND} (key, kind, account_number, symbol, reference, ours, theirs)"
    positions = f"""{columns}
        SELECT 'position:' || COALESCE(o.account_number, t.account_number) || ':'
                   || COALESCE(o.symbol, t.symbol),
               'position', COALESCE(o.account_number, t.account_number),
               COALESCE(o.symbol, t.symbol), '', COALESCE(o.qty, 0), COALESCE(t.qty, 0)
          FROM (SELECT acc.account_number, s.symbol, h.qty
                  FROM ({positions_as_of_sql()}) h
                  JOIN {account} acc ON acc.id = h.account_id
                  JOIN {security} s ON s.id = h.security_id) o
          FULL OUTER JOIN (SELECT account_number, symbol, qty FROM {position_file}
                            WHERE file_id = %(positions)s AND qty <> 0) t
            ON t.account_number = o.account_number AND t.symbol = o.symbol
         WHERE COALESCE(o.qty, 0) <> COALESCE(t.qty, 0)
           AND COALESCE(o.account_number, t.account_number) IN ({known_to_both})"""
    cash = f"""{columns}
        SELECT 'cash:' || c.account_number, 'cash', c.account_number, '', '',
               ROUND(COALESCE(o.cash, 0), 2), c.settled_cash
          FROM {cash_file} c
          JOIN {account} acc ON acc.account_number = c.account_number
          LEFT JOIN (SELECT l.account_id, SUM(p.amount) AS cash
                       FROM {_t(LedgerAccount)} l
                       JOIN {_t(Posting)} p ON p.ledger_account_id = l.id
                      WHERE l.kind = '{LedgerAccountKind.CUSTOMER_CASH}'
                        AND p.settles_on <= %(day)s
                      GROUP BY l.account_id) o ON o.account_id = acc.id
         WHERE c.file_id = %(cash)s AND acc.opened_at < %(end)s
           AND ROUND(COALESCE(o.cash, 0), 2) <> ROUND(c.settled_cash, 2)"""
    trades = f"""{columns}
        SELECT CASE WHEN o.reference IS NULL THEN 'trade_unknown_to_us'
                    WHEN t.reference IS NULL THEN 'trade_missing_at_clearing'
                    ELSE 'trade_mismatch' END
                   || ':' || COALESCE(o.reference, t.reference),
               CASE WHEN o.reference IS NULL THEN 'trade_unknown_to_us'
                    WHEN t.reference IS NULL THEN 'trade_missing_at_clearing'
                    ELSE 'trade_mismatch' END,
               COALESCE(o.account_number, t.account_number), COALESCE(o.symbol, t.symbol),
               COALESCE(o.reference, t.reference),
               CASE WHEN o.reference IS NULL THEN NULL
                    WHEN t.reference IS NULL OR o.qty <> t.qty THEN o.qty ELSE o.net END,
               CASE WHEN t.reference IS NULL THEN NULL
                    WHEN o.reference IS NULL OR o.qty <> t.qty THEN t.qty ELSE t.net END
          FROM (SELECT 'E' || CAST(e.id AS TEXT) AS reference, acc.account_number, s.symbol,
                       CASE WHEN ord.side = '{OrderSide.BUY}' THEN e.qty ELSE -e.qty END AS qty,
                       p.amount AS net
                  FROM {_t(Execution)} e
                  JOIN {_t(Order)} ord ON ord.id = e.order_id
                  JOIN {account} acc ON acc.id = ord.account_id
                  JOIN {security} s ON s.id = ord.security_id
                  JOIN {_t(Posting)} p ON p.entry_id = e.journal_entry_id
                  JOIN {_t(LedgerAccount)} l ON l.id = p.ledger_account_id
                       AND l.kind = '{LedgerAccountKind.CUSTOMER_CASH}'
                 WHERE e.executed_at >= %(start)s AND e.executed_at < %(end)s
                   AND (e.busted_at IS NULL OR e.busted_at >= %(end)s)) o
          FULL OUTER JOIN (SELECT reference, account_number, symbol, qty, net_amount AS net
                             FROM {_t(ClearingActivity)}
                            WHERE file_id = %(activity)s AND activity_type = 'TRD'
                              AND trade_date = %(day)s) t
            ON t.reference = o.reference
         WHERE (o.reference IS NULL OR t.reference IS NULL
                OR o.qty <> t.qty OR ROUND(o.net, 2) <> ROUND(t.net, 2))
           AND COALESCE(o.account_number, t.account_number) IN ({known_to_both})"""
    unknown_to_clearing = f"""{columns}
        SELECT 'account_unknown_to_clearing:' || acc.account_number,
               'account_unknown_to_clearing', acc.account_number, '', '', NULL, NULL
          FROM {account} acc
         WHERE acc.opened_at < %(end)s
           AND NOT EXISTS (SELECT 1 FROM {cash_file} c
                            WHERE c.file_id = %(cash)s AND c.account_number = acc.account_number)"""
    unknown_to_us = f"""{columns}
        SELECT 'account_unknown_to_us:' || x.account_number, 'account_unknown_to_us',
               x.account_number, '', '', NULL, NULL
          FROM (SELECT account_number FROM {cash_file} WHERE file_id = %(cash)s
                UNION SELECT account_number FROM {position_file} WHERE file_id = %(positions)s) x
         WHERE NOT EXISTS (SELECT 1 FROM {account} acc
                            WHERE acc.account_number = x.account_number)"""
    return [positions, cash, trades, unknown_to_clearing, unknown_to_us]


def _store_statements() -> list[str]:
    breaks = _t(Break)
    update = f"""
        UPDATE {breaks} SET ours = f.ours, theirs = f.theirs,
               difference = COALESCE(f.theirs, 0) - COALESCE(f.ours, 0),
               last_seen_on = %(day)s,
               status = CASE WHEN {breaks}.status = 'explained'
                              AND ({breaks}.ours IS DISTINCT FROM f.ours
                                   OR {breaks}.theirs IS DISTINCT FROM f.theirs)
                             THEN 'open' ELSE {breaks}.status END
          FROM {FOUND} f
         WHERE {breaks}.key = f.key AND {breaks}.status IN ('open', 'explained')"""
    insert = f"""
        INSERT INTO {breaks} (key, kind, status, account_number, symbol, reference, ours,
                              theirs, difference, first_seen_on, last_seen_on, note)
        SELECT f.key, f.kind, 'open', f.account_number, f.symbol, f.reference, f.ours,
               f.theirs, COALESCE(f.theirs, 0) - COALESCE(f.ours, 0), %(day)s, %(day)s, ''
          FROM {FOUND} f
         WHERE NOT EXISTS (SELECT 1 FROM {breaks} b
                            WHERE b.key = f.key AND b.status IN ('open', 'explained'))"""
    # Trades are compared for their trade date only: a trade break clears when the
    # clearing firm's activity names that trade again (booked late, or cancelled), not
    # merely because a later day no longer looks at it.
    resolve = f"""
        UPDATE {breaks} SET status = 'resolved', resolved_on = %(day)s
         WHERE status IN ('open', 'explained') AND last_seen_on < %(day)s
           AND NOT EXISTS (SELECT 1 FROM {FOUND} f WHERE f.key = {breaks}.key)
           AND (kind NOT IN ('trade_missing_at_clearing', 'trade_unknown_to_us',
                             'trade_mismatch')
                OR EXISTS (SELECT 1 FROM {_t(ClearingActivity)} a
                            WHERE a.file_id = %(activity)s
                              AND a.reference = {breaks}.reference))"""
    return [update, insert, resolve]


@transaction.atomic
def reconcile(business_date: date) -> ReconciliationRun:
    """Compare both books at the close of `business_date`; store and age the breaks and
    leave a summary. Needs the date's POSITIONS, CASH and ACTIVITY files loaded."""
    inputs = inputs_for(business_date)
    if inputs is None:
        raise LookupError(f"the clearing firm's files of {business_date} are not all loaded")
    started = timezone.now()
    params = {
        "day": business_date,
        "start": start_of(business_date),
        "end": end_of(business_date),
        "positions": inputs.positions.pk,
        "cash": inputs.cash.pk,
        "activity": inputs.activity.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FOUND}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {FOUND} (key VARCHAR(120) PRIMARY KEY, kind VARCHAR(32), "
            "account_number VARCHAR(20), symbol VARCHAR(12), reference VARCHAR(40), "
            "ours NUMERIC(20, 4), theirs NUMERIC(20, 4))"
        )
        for statement in _found_statements():
            cursor.execute(statement, params)
        cursor.execute(f"SELECT kind, COUNT(*) FROM {FOUND} GROUP BY kind")
        by_kind = {kind: count for kind, count in cursor.fetchall()}
        update, insert, resolve = _store_statements()
        cursor.execute(update, params)
        cursor.execute(insert, params)
        new = cursor.rowcount
        cursor.execute(resolve, params)
        resolved = cursor.rowcount
        cursor.execute(f"DROP TABLE {FOUND}")
    open_breaks = Break.objects.filter(status=Break.Status.OPEN).count()
    run = ReconciliationRun.objects.create(
        business_date=business_date,
        started_at=started,
        finished_at=timezone.now(),
        positions_compared=inputs.positions.record_count,
        accounts_compared=inputs.cash.record_count,
        trades_compared=ClearingActivity.objects.filter(
            file=inputs.activity, activity_type="TRD"
        ).count(),
        breaks_by_kind=by_kind,
        new_breaks=max(new, 0),
        resolved_breaks=max(resolved, 0),
        open_breaks=open_breaks,
    )
    log.info(
        "Clearing: reconciled %s: %s; %d new, %d resolved, %d open",
        business_date,
        dict(Counter(by_kind)) or "no breaks",
        run.new_breaks,
        run.resolved_breaks,
        open_breaks,
    )
    warn_old_breaks(business_date)
    return run


# --- Age -------------------------------------------------------------------------------------


def _session_on_or_before(day: date) -> pd.Timestamp:
    calendar = nyse()
    stamp = pd.Timestamp(day)
    return stamp if calendar.is_session(stamp) else calendar.date_to_session(stamp, "previous")


def age(first_seen_on: date, as_of: date) -> int:
    """NYSE business days from the date a break was first seen to `as_of`."""
    if as_of <= first_seen_on:
        return 0
    sessions = nyse().sessions_in_range(
        pd.Timestamp(first_seen_on + timedelta(days=1)), pd.Timestamp(as_of)
    )
    return len(sessions)


def overdue_threshold(as_of: date) -> date:
    """Open breaks first seen before this date are older than one business day as of
    `as_of`."""
    return nyse().previous_session(_session_on_or_before(as_of)).date()


def overdue_breaks(as_of: date | None = None):
    if as_of is None:
        last = ReconciliationRun.objects.order_by("-business_date").first()
        if last is None:
            return Break.objects.none()
        as_of = last.business_date
    return Break.objects.filter(
        status=Break.Status.OPEN, first_seen_on__lt=overdue_threshold(as_of)
    ).order_by("first_seen_on", "id")


def warn_old_breaks(as_of: date) -> int:
    overdue = overdue_breaks(as_of)
    count = overdue.count()
    for item in overdue[:WARN_LINES]:
        log.warning(
            "Clearing break %s open for %d business days (first seen %s): %s; ours %s, "
            "clearing's %s",
            item.pk,
            age(item.first_seen_on, as_of),
            item.first_seen_on,
            item,
            item.ours,
            item.theirs,
        )
    if count > WARN_LINES:
        log.warning("Clearing: %d more breaks older than one business day", count - WARN_LINES)
    return count


def home_warnings() -> list[tuple[str, str]]:
    """The admin home's warning while a break is older than one business day."""
    from django.urls import reverse

    count = overdue_breaks().count()
    if not count:
        return []
    return [
        (
            f"{count} reconciliation break{'s' if count != 1 else ''} with the clearing firm "
            "older than one business day",
            reverse("admin:trading_break_changelist") + "?status__exact=open",
        )
    ]
