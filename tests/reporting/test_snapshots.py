"""Daily account snapshots: cash from postings effective by the day, positions from
executions up to the day, valued at the latest close on or before it."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from accounts.money import ledger
from accounts.money.models import JournalEntryKind, LedgerAccountKind
from tests.factories import AccountFactory, SecurityFactory
from trading.market.models import DailyClose
from trading.orders.models import Execution, Order
from trading.reporting.models import AccountSnapshot
from trading.reporting.snapshots import last_trading_day_of_month, take_snapshots, trading_days

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
D = Decimal


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CHICAGO)


def deposit(account, amount: str, on: date):
    return ledger.post_journal_entry(
        JournalEntryKind.DEPOSIT,
        "deposit",
        [
            ledger.Line(ledger.customer_cash(account), D(amount)),
            ledger.Line(ledger.firm_ledger(LedgerAccountKind.FIRM_BANK), -D(amount)),
        ],
        account=account,
        effective_on=on,
    )


_seq = iter(range(1, 1_000_000))


def fill(account, security, side: str, qty: int, price: str, when: datetime, order=None):
    """An execution (of a new order, or of `order`), with the cash it moves (trade date
    = `when`)."""
    n = next(_seq)
    order = order or Order.objects.create(
        account=account,
        security=security,
        client_order_id=f"c{n}",
        request_hash="x",
        cl_ord_id=f"T{n}",
        side=side,
        order_type="market",
        time_in_force="day",
        qty=qty,
        status="filled",
        filled_qty=qty,
    )
    amount = (D(price) * qty).quantize(D("0.01"))
    sign = -1 if side == "buy" else 1
    entry = ledger.post_journal_entry(
        JournalEntryKind.BUY if side == "buy" else JournalEntryKind.SELL,
        f"{side} {qty}",
        [
            ledger.Line(ledger.customer_cash(account), sign * amount),
            ledger.Line(ledger.firm_ledger(LedgerAccountKind.CLEARING), -sign * amount),
        ],
        account=account,
        effective_on=when.astimezone(CHICAGO).date(),
    )
    return Execution.objects.create(
        order=order,
        exec_id=f"E{n}",
        report_key=f"test:{order.pk}:E{n}",
        qty=qty,
        price=D(price),
        executed_at=when,
        journal_entry=entry,
    )


def test_cash_positions_and_closes_as_of_each_day():
    account = AccountFactory(opened_at=at(date(2025, 3, 3), 9))
    acme = SecurityFactory(symbol="ACME")
    deposit(account, "10000.00", date(2025, 3, 3))
    fill(account, acme, "buy", 100, "50.00", at(date(2025, 3, 4)))
    fill(account, acme, "sell", 40, "55.00", at(date(2025, 3, 6)))
    DailyClose.objects.create(security=acme, date=date(2025, 3, 4), close=D("51.00"))
    DailyClose.objects.create(security=acme, date=date(2025, 3, 5), close=D("52.50"))
    # No close on the 6th: the 5th's is the latest on or before it.

    take_snapshots(date(2025, 3, 3))
    take_snapshots(date(2025, 3, 4))
    take_snapshots(date(2025, 3, 6))
    rows = {s.date: s for s in AccountSnapshot.objects.filter(account=account)}

    first = rows[date(2025, 3, 3)]
    assert (first.cash, first.market_value, first.equity, first.positions) == (
        D("10000.00"),
        D("0.00"),
        D("10000.00"),
        0,
    )
    second = rows[date(2025, 3, 4)]  # 10,000 - 5,000 cash; 100 x 51.00
    assert (second.cash, second.market_value, second.equity, second.positions) == (
        D("5000.00"),
        D("5100.00"),
        D("10100.00"),
        1,
    )
    third = rows[date(2025, 3, 6)]  # + 40 x 55 = 2,200 cash; 60 x 52.50
    assert (third.cash, third.market_value, third.equity) == (
        D("7200.00"),
        D("3150.00"),
        D("10350.00"),
    )
    assert third.net_transfers == D("10000.00")


def test_retaking_a_day_replaces_its_rows_and_skips_accounts_not_open():
    day = date(2025, 3, 4)
    open_account = AccountFactory(opened_at=at(date(2025, 3, 3)))
    AccountFactory(opened_at=at(date(2025, 3, 5)))  # not open yet on the 4th
    AccountFactory(opened_at=at(date(2025, 3, 1)), closed_at=at(day, 15), status="closed")
    deposit(open_account, "100.00", date(2025, 3, 3))
    assert take_snapshots(day).accounts == 1
    deposit(open_account, "50.00", day)
    assert take_snapshots(day).accounts == 1
    snapshot = AccountSnapshot.objects.get(date=day)
    assert snapshot.account == open_account and snapshot.cash == D("150.00")


def test_an_entry_effective_after_the_day_is_not_in_its_cash():
    account = AccountFactory(opened_at=at(date(2025, 3, 3)))
    deposit(account, "100.00", date(2025, 3, 3))
    deposit(account, "900.00", date(2025, 3, 5))
    take_snapshots(date(2025, 3, 4))
    assert AccountSnapshot.objects.get(account=account).cash == D("100.00")


def test_backfill_command_takes_every_trading_day_of_a_range():
    AccountFactory(opened_at=at(date(2025, 6, 2)))
    call_command(
        "take_account_snapshots", "--from", "2025-06-30", "--to", "2025-07-07", verbosity=0
    )
    # July 4 is a holiday, the 5th and 6th a weekend.
    assert sorted(AccountSnapshot.objects.values_list("date", flat=True)) == [
        date(2025, 6, 30),
        date(2025, 7, 1),
        date(2025, 7, 2),
        date(2025, 7, 3),
        date(2025, 7, 7),
    ]


def test_backfill_command_refuses_bad_dates():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Not a date"):
        call_command("take_account_snapshots", "--date", "2025-13-01")
    with pytest.raises(CommandError, match="--date, or both"):
        call_command("take_account_snapshots", "--from", "2025-06-30")


def test_trading_calendar_helpers():
    assert last_trading_day_of_month(2025, 5) == date(2025, 5, 30)  # the 31st is a Saturday
    assert last_trading_day_of_month(2024, 3) == date(2024, 3, 28)  # Good Friday
    assert trading_days(date(2025, 12, 24), date(2025, 12, 26)) == [
        date(2025, 12, 24),
        date(2025, 12, 26),
    ]


def test_the_daily_snapshot_schedule_exists_after_migrate():
    task = PeriodicTask.objects.get(task="trading.tasks.take_account_snapshots")
    assert task.enabled
    assert (task.crontab.hour, task.crontab.minute, task.crontab.day_of_week) == ("16", "30", "1-5")
    assert str(task.crontab.timezone) == "America/New_York"


def test_a_reversed_deposit_is_not_counted_as_a_transfer_in():
    from django.utils import timezone

    account = AccountFactory(opened_at=at(date(2025, 3, 3)))
    returned = deposit(account, "1000.00", date(2025, 3, 3))
    deposit(account, "200.00", date(2025, 3, 3))
    ledger.reverse_entry(returned, None, "ACH return")
    today = timezone.localdate()
    take_snapshots(today)
    snapshot = AccountSnapshot.objects.get(account=account, date=today)
    # Cash and transfers both lose the returned deposit: no loss appears in P&L.
    assert (snapshot.cash, snapshot.net_transfers) == (D("200.00"), D("200.00"))


def test_a_fill_busted_by_the_day_holds_nothing_on_it():
    account = AccountFactory(opened_at=at(date(2025, 3, 3), 9))
    acme = SecurityFactory(symbol="ACME")
    deposit(account, "10000.00", date(2025, 3, 3))
    fill(account, acme, "buy", 100, "50.00", at(date(2025, 3, 4)))
    busted = fill(account, acme, "buy", 30, "50.00", at(date(2025, 3, 4)))
    Execution.objects.filter(pk=busted.pk).update(busted_at=at(date(2025, 3, 5)))
    DailyClose.objects.create(security=acme, date=date(2025, 3, 4), close=D("50.00"))

    take_snapshots(date(2025, 3, 4))  # busted the next day: held that evening
    take_snapshots(date(2025, 3, 5))
    rows = {s.date: s.market_value for s in AccountSnapshot.objects.filter(account=account)}
    assert rows == {date(2025, 3, 4): D("6500.00"), date(2025, 3, 5): D("5000.00")}
