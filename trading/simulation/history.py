"""Two years of demo history for the embedded run (`make run` → seed_demo): customer
accounts opening (and a few closing), deposits, filled orders at the simulated market's
closing prices, daily closes, daily account snapshots and the monthly statistics, so the
staff statistics pages have content at first start.

Written with bulk inserts (the ledger's rules kept: every entry balances, cached balances
are set to the sums of their postings), seeded, and built once: a second run finds the
history's first customer and does nothing.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from stdnum import luhn

from accounts.money.models import (
    JournalEntry,
    JournalEntryKind,
    LedgerAccount,
    LedgerAccountKind,
    Posting,
)
from accounts.opening.models import Account, AccountHolder, AccountStatus, AccountType
from accounts.users.models import User
from trading.market import market_data
from trading.market.calendar import settlement_date
from trading.market.models import DailyClose, Security
from trading.market.securities import reference_price_for
from trading.orders.models import Execution, Order, Position
from trading.reporting.models import MonthlyStatistics
from trading.reporting.snapshots import take_snapshots, trading_days
from trading.reporting.statistics import add_months, compute_months, last_closed_month
from trading.simulation.market import SimulatedMarket

EMAIL = "history-{:04d}@rushtrade.test"
SYMBOLS = ("AAPL", "MSFT", "AMZN", "JPM", "XOM", "KO", "PFE", "INTC", "BAC", "F", "T", "WMT")
CENT = Decimal("0.01")
MONTHS = 24
# Accounts opened in month i of the history: the firm roughly doubles over a year.
OPENINGS = [8 + 2 * i for i in range(MONTHS + 1)]


@dataclass
class _Customer:
    index: int
    opened: date
    closes_on: date | None
    cash: Decimal = Decimal("0")
    holdings: dict[int, int] = field(default_factory=dict)
    cost: dict[int, Decimal] = field(default_factory=dict)
    account: Account | None = None


def _firm_day(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


def _securities() -> list[Security]:
    found = {s.symbol: s for s in Security.objects.filter(symbol__in=SYMBOLS)}
    for symbol in SYMBOLS:
        if symbol not in found:
            found[symbol], _ = Security.objects.get_or_create(
                symbol=symbol,
                defaults={
                    "name": f"{symbol} (demo)",
                    "exchange": "NYSE",
                    "reference_price": reference_price_for(symbol),
                },
            )
    return [found[s] for s in SYMBOLS]


def seed_history(today: date | None = None) -> bool:
    """Build the history once; False if it is already there."""
    if User.objects.filter(email=EMAIL.format(1)).exists():
        return False
    today = today or timezone.localdate()
    start = add_months(today.replace(day=1), -MONTHS)
    last_session = market_data.last_closed_session().day
    days = trading_days(start, min(last_session, today))
    with transaction.atomic():
        securities = _securities()
        closes = _daily_closes(securities, days)
        customers = _customers(start, days)
        _accounts(customers)
        _activity(customers, securities, closes, days)
    # Statistics need each month's last close; the last few weeks are there in full.
    month_ends = {max(d for d in days if (d.year, d.month) == (m.year, m.month)) for m in days}
    for day in sorted(month_ends | set(days[-20:])):
        take_snapshots(day)
    compute_months(start, last_closed_month(), source=MonthlyStatistics.Source.DEMO)
    return True


def _daily_closes(securities: list[Security], days: list[date]) -> dict[tuple[int, date], Decimal]:
    market = SimulatedMarket()
    rows = []
    for security in securities:
        for day in days:
            close, volume = market.session_close(security, day)
            rows.append(DailyClose(security=security, date=day, close=close, volume=volume))
    DailyClose.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    stored = DailyClose.objects.filter(security__in=securities, date__in=days)
    return {(c.security_id, c.date): c.close for c in stored}


def _customers(start: date, days: list[date]) -> list[_Customer]:
    rng = random.Random(2004)  # noqa: S311 (demo data, not security)
    by_month = defaultdict(list)
    for day in days:
        by_month[(day.year, day.month)].append(day)
    customers = []
    for i, count in enumerate(OPENINGS):
        month = add_months(start, i)
        sessions = by_month.get((month.year, month.month), [])
        if not sessions:
            continue
        for _ in range(count):
            opened = rng.choice(sessions)
            later = [d for d in days if d > opened + timedelta(days=60)]
            closes_on = rng.choice(later) if later and rng.random() < 0.06 else None
            customers.append(_Customer(len(customers) + 1, opened, closes_on))
    return customers


def _accounts(customers: list[_Customer]) -> None:
    users = User.objects.bulk_create(
        User(
            email=EMAIL.format(c.index),
            first_name="Demo",
            last_name=f"Customer {c.index}",
            password=UNUSABLE_PASSWORD_PREFIX,  # these customers never log in
            date_joined=_firm_day(c.opened, 8),
        )
        for c in customers
    )
    accounts = Account.objects.bulk_create(
        Account(
            account_number=f"RT9{c.index:06d}{luhn.calc_check_digit(f'9{c.index:06d}')}",
            account_type=AccountType.INDIVIDUAL_CASH,
            status=AccountStatus.CLOSED if c.closes_on else AccountStatus.ACTIVE,
            opened_at=_firm_day(c.opened, 9),
            closed_at=_firm_day(c.closes_on, 17) if c.closes_on else None,
        )
        for c in customers
    )
    AccountHolder.objects.bulk_create(
        AccountHolder(account=a, user=u, role=AccountHolder.Role.PRIMARY)
        for a, u in zip(accounts, users, strict=True)
    )
    LedgerAccount.objects.bulk_create(
        LedgerAccount(account=a, kind=LedgerAccountKind.CUSTOMER_CASH) for a in accounts
    )
    for customer, account in zip(customers, accounts, strict=True):
        customer.account = account


@dataclass
class _Book:
    """The history's journal entries, orders and fills, gathered in memory day by day and
    stored in bulk at the end."""

    cash_ledgers: dict[int, int]  # account id -> its cash ledger's id
    firm: dict[str, int]  # kind -> the firm ledger's id
    closes: dict[tuple[int, date], Decimal]
    entries: list[JournalEntry] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    fills: list[tuple] = field(default_factory=list)

    def post(self, c, kind, words, amount, day, other, settles=None, commission=Decimal("0")):
        self.entries.append(
            JournalEntry(
                kind=kind,
                description=words,
                account=c.account,
                effective_on=day,
                idempotency_key=f"demo-history:{len(self.entries)}",
            )
        )
        settles = settles or day
        index = len(self.entries) - 1
        self.lines.append((index, self.cash_ledgers[c.account.pk], amount, settles))
        self.lines.append((index, self.firm[other], -amount - commission, settles))
        if commission:
            self.lines.append(
                (index, self.firm[LedgerAccountKind.COMMISSION_REVENUE], commission, settles)
            )
        c.cash += amount

    def transfer(self, c, kind, words, amount, day):
        self.post(c, kind, words, amount, day, LedgerAccountKind.FIRM_BANK)

    def trade(self, c, security, side, qty, day, minute):
        price = self.closes[(security.pk, day)]
        principal = (price * qty).quantize(CENT, ROUND_HALF_UP)
        commission = max(Decimal("1.00"), (Decimal("0.005") * qty).quantize(CENT))
        n = len(self.orders) + 1
        at = _firm_day(day, 10, minute)
        self.orders.append(
            Order(
                account=c.account,
                security=security,
                client_order_id=f"demo-history-{n}",
                request_hash="demo-history",
                cl_ord_id=f"HIST{n:08d}",
                side=side,
                order_type="market",
                time_in_force="day",
                qty=qty,
                status="filled",
                filled_qty=qty,
                filled_avg_price=price,
                estimated_commission=commission,
                submitted_at=at,
                filled_at=at,
            )
        )
        sign = -1 if side == "buy" else 1
        self.post(
            c,
            JournalEntryKind.BUY if side == "buy" else JournalEntryKind.SELL,
            f"{'Bought' if side == 'buy' else 'Sold'} {qty} {security.symbol} @ {price}",
            sign * principal - commission,
            day,
            LedgerAccountKind.CLEARING,
            settles=settlement_date(day),
            commission=commission,
        )
        self.fills.append((len(self.orders) - 1, len(self.entries) - 1, qty, price, commission, at))
        _hold(c, security.pk, qty if side == "buy" else -qty, price)

    def store(self, customers: list[_Customer]) -> None:
        entries = JournalEntry.objects.bulk_create(self.entries, batch_size=1000)
        Posting.objects.bulk_create(
            (
                Posting(
                    entry=entries[i], ledger_account_id=ledger, amount=amount, settles_on=settles
                )
                for i, ledger, amount, settles in self.lines
            ),
            batch_size=2000,
        )
        orders = Order.objects.bulk_create(self.orders, batch_size=1000)
        Order.objects.filter(pk__in=[o.pk for o in orders]).update(
            created_at=F("submitted_at"), updated_at=F("filled_at")
        )
        Execution.objects.bulk_create(
            (
                Execution(
                    order=orders[o],
                    exec_id=f"HIST-E{o + 1:08d}",
                    qty=qty,
                    price=price,
                    commission=commission,
                    executed_at=at,
                    journal_entry=entries[e],
                )
                for o, e, qty, price, commission, at in self.fills
            ),
            batch_size=1000,
        )
        _store_positions(customers)
        sums = (
            Posting.objects.filter(ledger_account=OuterRef("pk"))
            .values("ledger_account")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        money = DecimalField(max_digits=18, decimal_places=2)
        LedgerAccount.objects.filter(
            pk__in=[*self.cash_ledgers.values(), *self.firm.values()]
        ).update(balance=Coalesce(Subquery(sums, output_field=money), Value(Decimal("0"))))


def _hold(c: _Customer, security_id: int, change: int, price: Decimal) -> None:
    """The customer's shares and average cost after buying (change > 0) or selling."""
    held = c.holdings.get(security_id, 0)
    if change > 0:
        cost = c.cost.get(security_id, Decimal("0"))
        c.cost[security_id] = (cost * held + price * change) / (held + change)
    c.holdings[security_id] = held + change


def _store_positions(customers: list[_Customer]) -> None:
    Position.objects.bulk_create(
        Position(
            account=c.account,
            security_id=security_id,
            qty=qty,
            avg_cost=c.cost[security_id].quantize(Decimal("0.0001"), ROUND_HALF_UP),
        )
        for c in customers
        for security_id, qty in c.holdings.items()
        if qty
    )


def _activity(customers, securities, closes, days) -> None:
    """Deposits, buys and sells, day by day; a closing account sells out and withdraws."""
    rng = random.Random(1104)  # noqa: S311
    cash_ledgers = dict(
        LedgerAccount.objects.filter(account__in=[c.account for c in customers]).values_list(
            "account_id", "pk"
        )
    )
    firm = {
        kind: LedgerAccount.objects.get_or_create(account=None, kind=kind)[0].pk
        for kind in (
            LedgerAccountKind.FIRM_BANK,
            LedgerAccountKind.CLEARING,
            LedgerAccountKind.COMMISSION_REVENUE,
        )
    }
    book = _Book(cash_ledgers, firm, closes)
    opening = defaultdict(list)
    closing = defaultdict(list)
    for c in customers:
        opening[c.opened].append(c)
        if c.closes_on:
            closing[c.closes_on].append(c)
    active: list[_Customer] = []
    for day in days:
        for c in opening[day]:
            amount = Decimal(rng.choice([2_500, 5_000, 10_000, 25_000, 50_000, 100_000]))
            book.transfer(c, JournalEntryKind.DEPOSIT, "ACH deposit", amount, day)
            active.append(c)
        _trading_day(book, active, securities, day, rng)
        for c in closing[day]:
            _close(book, c, securities, day)
            active.remove(c)
    book.store(customers)


def _trading_day(book: _Book, active: list[_Customer], securities, day: date, rng) -> None:
    """About one customer in eight trades once: a sell of part of a holding, or a buy of
    up to 30% of the cash; now and then one deposits more."""
    for minute, c in enumerate(active):
        if c.closes_on == day or rng.random() > 0.12:
            continue
        security = rng.choice(securities)
        price = book.closes[(security.pk, day)]
        held = c.holdings.get(security.pk, 0)
        if held and rng.random() < 0.4:
            book.trade(c, security, "sell", max(1, held // rng.choice([1, 2, 3])), day, minute % 60)
        else:
            qty = int(c.cash * Decimal(rng.uniform(0.05, 0.3)) / price)
            if qty >= 1 and c.cash - price * qty > 50:
                book.trade(c, security, "buy", qty, day, minute % 60)
        if rng.random() < 0.01:
            amount = Decimal(rng.choice([1_000, 2_500, 5_000]))
            book.transfer(c, JournalEntryKind.DEPOSIT, "ACH deposit", amount, day)


def _close(book: _Book, c: _Customer, securities, day: date) -> None:
    """A closing account sells everything and withdraws its cash."""
    for security in securities:
        if c.holdings.get(security.pk):
            book.trade(c, security, "sell", c.holdings[security.pk], day, 59)
    if c.cash > 0:
        book.transfer(
            c, JournalEntryKind.WITHDRAWAL, "ACH withdrawal (account closed)", -c.cash, day
        )
