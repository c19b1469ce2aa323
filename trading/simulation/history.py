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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from stdnum import luhn

from accounts.money import ledger
from accounts.money.models import (
    JournalEntry,
    JournalEntryKind,
    LedgerAccount,
    LedgerAccountKind,
    Posting,
    Transfer,
    TransferStatus,
)
from accounts.opening.models import Account, AccountHolder, AccountStatus, AccountType
from accounts.users.models import User
from trading.market import market_data
from trading.market.calendar import settlement_date
from trading.market.models import DailyClose, Security, WatchlistItem
from trading.market.securities import reference_price_for
from trading.market.watchlist import default_watchlist
from trading.orders import fees
from trading.orders.models import Execution, Order, Position
from trading.reporting.models import AccountSnapshot, MonthlyStatistics
from trading.reporting.snapshots import take_snapshots, trading_days
from trading.reporting.statistics import add_months, compute_months, last_closed_month
from trading.simulation.market import SimulatedMarket

EMAIL = "history-{:04d}@rushtrade.test"
SYMBOLS = ("AAPL", "MSFT", "AMZN", "JPM", "XOM", "KO", "PFE", "INTC", "BAC", "F", "T", "WMT")
CENT = Decimal("0.01")
ZERO = Decimal("0")
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
    realized: dict[int, Decimal] = field(default_factory=dict)
    account: Account | None = None


def _firm_day(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


@contextmanager
def _stamped_as_given(model, name: str):
    """Inserts keep the time set on `name` instead of auto_now_add's now: history is
    written after the fact, and posted ledger rows cannot be updated afterwards (a
    database rule). For the seeding command only: it changes the field for the process."""
    field = model._meta.get_field(name)
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


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


class _Book:
    """Journal entries, postings, orders and fills gathered in memory, day by day, and
    written in bulk by `write` (the ledger's rules kept: every entry balances). `tag`
    keeps the idempotency keys and ClOrdIDs of one book apart from another's."""

    def __init__(self, customers, closes, tag: str = "demo-history", prefix: str = "HIST"):
        self.closes = closes
        self.tag, self.prefix = tag, prefix
        self.cash_ledgers = dict(
            LedgerAccount.objects.filter(account__in=[c.account for c in customers]).values_list(
                "account_id", "pk"
            )
        )
        self.firm = {
            kind: LedgerAccount.objects.get_or_create(account=None, kind=kind)[0].pk
            for kind in (
                LedgerAccountKind.FIRM_BANK,
                LedgerAccountKind.CLEARING,
                LedgerAccountKind.COMMISSION_REVENUE,
                LedgerAccountKind.REGULATORY_FEES,
            )
        }
        self.entries, self.times, self.lines, self.orders, self.fills = [], [], [], [], []

    def post(self, c, kind, words, amount, day, other, settles=None, charges=None, at=None):
        """One balanced entry moving `amount` into (or out of) the customer's cash; a
        trade's `charges` (fees.charges) go to commission revenue and regulatory fees."""
        commission = charges.commission if charges else ZERO
        regulatory = charges.fees if charges else ZERO
        self.entries.append(
            JournalEntry(
                kind=kind,
                description=words,
                account=c.account,
                effective_on=day,
                idempotency_key=f"{self.tag}:{len(self.entries)}",
            )
        )
        self.times.append(at or _firm_day(day, 9, 30))
        settles = settles or day
        index = len(self.entries) - 1
        self.lines.append((index, self.cash_ledgers[c.account.pk], amount, settles))
        self.lines.append((index, self.firm[other], -amount - commission - regulatory, settles))
        if commission:
            self.lines.append(
                (index, self.firm[LedgerAccountKind.COMMISSION_REVENUE], commission, settles)
            )
        if regulatory:
            self.lines.append(
                (index, self.firm[LedgerAccountKind.REGULATORY_FEES], regulatory, settles)
            )
        c.cash += amount
        return index

    def trade(self, c, security, side, qty, day, minute):
        """A market order filled at the day's close, its cash settling T+1."""
        price = self.closes[(security.pk, day)]
        principal = (price * qty).quantize(CENT, ROUND_HALF_UP)
        charges = fees.charges(side, qty, price)  # as a live fill is charged
        commission = charges.commission
        n = len(self.orders) + 1
        at = _firm_day(day, 10 + minute // 60, minute % 60)
        self.orders.append(
            Order(
                account=c.account,
                security=security,
                client_order_id=f"{self.tag}-{n}",
                request_hash=self.tag,
                cl_ord_id=f"{self.prefix}{n:08d}",
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
        entry = self.post(
            c,
            JournalEntryKind.BUY if side == "buy" else JournalEntryKind.SELL,
            f"{'Bought' if side == 'buy' else 'Sold'} {qty} {security.symbol} @ {price}",
            sign * principal - charges.total,
            day,
            LedgerAccountKind.CLEARING,
            settles=settlement_date(day),
            charges=charges,
            at=at,
        )
        self.fills.append((len(self.orders) - 1, entry, qty, price, charges, at))
        held = c.holdings.get(security.pk, 0)
        if side == "buy":
            c.cost[security.pk] = (c.cost.get(security.pk, ZERO) * held + price * qty) / (
                held + qty
            )
            c.holdings[security.pk] = held + qty
        else:
            c.realized[security.pk] = c.realized.get(security.pk, ZERO) + (
                (price - c.cost[security.pk]) * qty
            ).quantize(CENT, ROUND_HALF_UP)
            c.holdings[security.pk] = held - qty

    def write(self, customers) -> list[JournalEntry]:
        """Everything gathered, in bulk; entries and orders dated when they happened."""
        for entry, at in zip(self.entries, self.times, strict=True):
            entry.created_at = at
        with _stamped_as_given(JournalEntry, "created_at"):
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
                    exec_id=f"{self.prefix}-E{o + 1:08d}",
                    report_key=f"{self.prefix}:{o + 1}",
                    qty=qty,
                    price=price,
                    commission=charges.commission,
                    fees=charges.fees,
                    executed_at=at,
                    journal_entry=entries[e],
                )
                for o, e, qty, price, charges, at in self.fills
            ),
            batch_size=1000,
        )
        Position.objects.bulk_create(
            Position(
                account=c.account,
                security_id=security_id,
                qty=qty,
                avg_cost=c.cost[security_id].quantize(Decimal("0.0001"), ROUND_HALF_UP),
                realized_pnl=c.realized.get(security_id, ZERO),
            )
            for c in customers
            for security_id, qty in c.holdings.items()
            if qty
        )
        sums = (
            Posting.objects.filter(ledger_account=OuterRef("pk"))
            .values("ledger_account")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        money = DecimalField(max_digits=18, decimal_places=2)
        LedgerAccount.objects.filter(
            pk__in=[*self.cash_ledgers.values(), *self.firm.values()]
        ).update(balance=Coalesce(Subquery(sums, output_field=money), Value(ZERO)))
        return entries


def _activity(customers, securities, closes, days) -> None:
    """Deposits, buys and sells, day by day; a closing account sells out and withdraws."""
    rng = random.Random(1104)  # noqa: S311
    book = _Book(customers, closes)
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
            book.post(
                c, JournalEntryKind.DEPOSIT, "ACH deposit", amount, day, LedgerAccountKind.FIRM_BANK
            )
            active.append(c)
        for minute, c in enumerate(active):
            if c.closes_on == day or rng.random() > 0.12:
                continue
            security = rng.choice(securities)
            price = closes[(security.pk, day)]
            held = c.holdings.get(security.pk, 0)
            if held and rng.random() < 0.4:
                qty = max(1, held // rng.choice([1, 2, 3]))
                book.trade(c, security, "sell", qty, day, minute % 60)
            else:
                qty = int(c.cash * Decimal(rng.uniform(0.05, 0.3)) / price)
                if qty >= 1 and c.cash - price * qty > 50:
                    book.trade(c, security, "buy", qty, day, minute % 60)
            if rng.random() < 0.01:
                amount = Decimal(rng.choice([1_000, 2_500, 5_000]))
                book.post(
                    c,
                    JournalEntryKind.DEPOSIT,
                    "ACH deposit",
                    amount,
                    day,
                    LedgerAccountKind.FIRM_BANK,
                )
        for c in closing[day]:
            for security in securities:
                if c.holdings.get(security.pk):
                    book.trade(c, security, "sell", c.holdings[security.pk], day, 59)
            if c.cash > 0:
                book.post(
                    c,
                    JournalEntryKind.WITHDRAWAL,
                    "ACH withdrawal (account closed)",
                    -c.cash,
                    day,
                    LedgerAccountKind.FIRM_BANK,
                    at=_firm_day(day, 16, 30),
                )
            active.remove(c)
    book.write(customers)


# --- The demo customer: two years of an account one can log in to -----------------------

DEMO_CORE = (
    ("AAPL", 3_000),
    ("MSFT", 3_000),
    ("JPM", 2_500),
    ("KO", 2_000),
    ("XOM", 2_000),
    ("WMT", 2_000),
)
DEMO_WATCHLIST = ("NVDA", "TSLA", "GOOGL", "PFE", "COST")


def _month_index(start: date, day: date) -> int:
    return (day.year - start.year) * 12 + day.month - start.month


def give_demo_history(account: Account, link, user: User, today: date | None = None) -> int:
    """Make the demo customer's new account two years old: opened at the start of the
    history, a first deposit and a monthly one, a core of six stocks bought in the first
    weeks and added to every month, a few sales (one position sold out and replaced),
    one withdrawal, and a snapshot at every close, so the overview's chart, positions,
    activity, transfers, confirmations and statements have content at first login.
    Returns the number of trades."""
    today = today or timezone.localdate()
    start = add_months(today.replace(day=1), -MONTHS)
    days = trading_days(start, min(market_data.last_closed_session().day, today))
    opened = days[3]
    _backdate_opening(account, link, user, opened)
    found = {s.symbol: s for s in _securities()}
    closes = _daily_closes(list(found.values()), days)
    rng = random.Random(15)  # noqa: S311 (demo data)
    ledger.customer_cash(account)
    me = _Customer(0, opened, None, account=account)
    book = _Book([me], closes, tag="demo-customer", prefix="DEMO")
    transfers: list[tuple[int, date, str, Decimal]] = []

    def move(day: date, direction: str, amount: Decimal) -> None:
        deposit = direction == "deposit"
        words = f"ACH deposit from {link}" if deposit else f"ACH withdrawal to {link}"
        index = book.post(
            me,
            JournalEntryKind.DEPOSIT if deposit else JournalEntryKind.WITHDRAWAL,
            words,
            amount if deposit else -amount,
            day,
            LedgerAccountKind.FIRM_BANK,
        )
        transfers.append((index, day, direction, amount))

    def buy(day: date, symbol: str, dollars: Decimal) -> None:
        security = found[symbol]
        price = closes[(security.pk, day)]
        qty = int(min(dollars, me.cash - 100) / price)
        if qty >= 1:
            book.trade(me, security, "buy", qty, day, rng.randrange(0, 300))

    def sell(day: date, symbol: str, fraction: Decimal) -> None:
        security = found[symbol]
        held = me.holdings.get(security.pk, 0)
        qty = held if fraction >= 1 else int(held * fraction)
        if qty >= 1:
            book.trade(me, security, "sell", qty, day, rng.randrange(0, 300))

    def value(day: date, symbol: str) -> Decimal:
        security = found[symbol]
        return me.holdings.get(security.pk, 0) * closes[(security.pk, day)]

    def gain(day: date, symbol: str) -> Decimal:
        security = found[symbol]
        cost = me.cost.get(security.pk)
        return closes[(security.pk, day)] / cost - 1 if cost else Decimal("-1")

    core = [symbol for symbol, _ in DEMO_CORE]
    snapshots = []
    transferred = ZERO
    first_of_month = {}
    for day in days:
        first_of_month.setdefault((day.year, day.month), day)
    since = days.index(opened)
    for i, day in enumerate(days):
        if day < opened:
            continue
        month = _month_index(opened, day)
        if day == opened:
            move(day, "deposit", Decimal("20000.00"))
        for n, (symbol, dollars) in enumerate(DEMO_CORE):
            if i == since + 1 + 2 * n:
                buy(day, symbol, Decimal(dollars))
        if month and first_of_month[(day.year, day.month)] == day:
            move(day, "deposit", Decimal("500.00"))
        if month and i > 0 and first_of_month[(day.year, day.month)] == days[i - 1]:
            lightest = min(core, key=lambda s: value(day, s))
            buy(day, lightest, (me.cash - Decimal("1500")) * Decimal("0.7"))
        if month in (9, 21) and first_of_month[(day.year, day.month)] == days[i - 5]:
            best = max(
                (s for s in core if me.holdings.get(found[s].pk)), key=lambda s: gain(day, s)
            )
            sell(day, best, Decimal("0.5") if month == 9 else Decimal("0.34"))
        if month == 14 and first_of_month[(day.year, day.month)] == days[i - 3]:
            sell(day, "XOM", Decimal(1))
            core.remove("XOM")
            core.append("PFE")
            buy(day, "PFE", me.cash * Decimal("0.6"))
        if month == 18 and first_of_month[(day.year, day.month)] == days[i - 8]:
            move(day, "withdrawal", Decimal("2500.00"))
        if day == days[-3]:
            buy(day, "KO", Decimal("800"))
        if day == days[-2]:
            sell(day, "AAPL", Decimal("0.2"))
        transferred = sum((a if d == "deposit" else -a for _, _, d, a in transfers), ZERO)
        market_value = sum(
            (qty * closes[(pk, day)] for pk, qty in me.holdings.items() if qty), ZERO
        ).quantize(CENT, ROUND_HALF_UP)
        snapshots.append(
            AccountSnapshot(
                account=account,
                date=day,
                cash=me.cash,
                market_value=market_value,
                equity=me.cash + market_value,
                net_transfers=transferred,
                positions=sum(1 for qty in me.holdings.values() if qty),
            )
        )

    entries = book.write([me])
    with _stamped_as_given(Transfer, "requested_at"):
        Transfer.objects.bulk_create(
            Transfer(
                account=account,
                bank_link=link,
                direction=direction,
                amount=amount,
                status=TransferStatus.COMPLETED,
                client_transfer_id=f"demo-history-{n}",
                requested_by=user,
                requested_at=_firm_day(day, 8),
                submitted_at=_firm_day(day, 8),
                completed_at=_firm_day(day, 9, 30),
                journal_entry=entries[index],
            )
            for n, (index, day, direction, amount) in enumerate(transfers)
        )
    AccountSnapshot.objects.bulk_create(snapshots, batch_size=1000, ignore_conflicts=True)
    first = default_watchlist(user)
    for symbol in DEMO_WATCHLIST:
        security = Security.objects.filter(symbol=symbol).first()
        if security:
            WatchlistItem.objects.get_or_create(user=user, watchlist=first, security=security)
    return len(book.orders)


def _backdate_opening(account: Account, link, user: User, opened: date) -> None:
    """The application, its events and agreements, the account and the bank link dated
    as if the customer had applied the evening before `opened`."""
    applied = _firm_day(opened - timedelta(days=1), 20, 15)
    decided = _firm_day(opened - timedelta(days=1), 20, 31)
    User.objects.filter(pk=user.pk).update(date_joined=applied - timedelta(minutes=20))
    application = account.application
    if application is not None:
        type(application).objects.filter(pk=application.pk).update(
            created_at=applied, updated_at=decided, submitted_at=decided, decided_at=decided
        )
        application.events.update(created_at=decided)
        application.agreements.update(accepted_at=decided)
    Account.objects.filter(pk=account.pk).update(opened_at=decided)
    type(link).objects.filter(pk=link.pk).update(created_at=_firm_day(opened, 8))
