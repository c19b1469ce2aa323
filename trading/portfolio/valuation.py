"""What an account holds and what it is worth now: positions valued at the latest
quotes, day change against the previous close (or the price paid, for shares bought
since), unrealized P&L against average cost,
balances from the cash ledger, and the account's value history from its daily
snapshots. Reads only, in a fixed number of queries whatever the number of positions."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, F, Sum
from django.utils import timezone

from accounts.money import ledger
from accounts.opening.models import Account
from trading.market import market_data
from trading.market.models import Security
from trading.orders.models import Execution, OrderSide, Position, PositionAdjustment
from trading.reporting.models import AccountSnapshot

ZERO = Decimal("0")
CENT = Decimal("0.01")
PERIODS = {"1M": 31, "3M": 92, "1Y": 366, "all": None}


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole * 100).quantize(CENT, ROUND_HALF_UP)


@dataclass
class Holding:
    """A position at the latest quote. Day change: the shares held at the previous close
    against that close, the shares bought since against what was paid for them."""

    security: Security
    qty: int
    avg_cost: Decimal
    realized_pnl: Decimal
    last: Decimal | None
    previous_close: Decimal | None
    bought_today: int = 0  # shares bought since the previous close
    bought_today_cost: Decimal = ZERO  # what they cost (price x shares, before commission)
    net_today: int = 0  # shares bought less shares sold since the previous close

    @property
    def symbol(self) -> str:
        return self.security.symbol

    @property
    def cost_basis(self) -> Decimal:
        return (self.avg_cost * self.qty).quantize(CENT, ROUND_HALF_UP)

    @property
    def market_value(self) -> Decimal:
        price = self.last if self.last is not None else self.avg_cost
        return (price * self.qty).quantize(CENT, ROUND_HALF_UP)

    @property
    def held_today(self) -> int:
        """Of the shares held, those bought since the previous close (sales since then
        are taken from the shares held overnight first)."""
        return max(0, min(self.bought_today, self.qty))

    @property
    def _day_base(self) -> tuple[Decimal, Decimal] | None:
        """(change, what it is measured against) for the shares held now."""
        if self.last is None:
            return None
        change, base = ZERO, ZERO
        overnight = self.qty - self.held_today
        if overnight:
            if self.previous_close is None:
                return None
            change += (self.last - self.previous_close) * overnight
            base += self.previous_close * overnight
        if self.held_today:
            paid = self.bought_today_cost / self.bought_today
            change += (self.last - paid) * self.held_today
            base += paid * self.held_today
        return change, base

    @property
    def day_change(self) -> Decimal:
        figures = self._day_base
        return figures[0].quantize(CENT, ROUND_HALF_UP) if figures else ZERO

    @property
    def day_change_pct(self) -> Decimal | None:
        figures = self._day_base
        return _pct(*figures) if figures else None

    @property
    def start_value(self) -> Decimal:
        """The value at the previous close of the shares held then."""
        shares = self.qty - self.net_today
        price = next(
            (p for p in (self.previous_close, self.last, self.avg_cost) if p is not None), ZERO
        )
        return (price * shares).quantize(CENT, ROUND_HALF_UP)

    @property
    def unrealized(self) -> Decimal:
        return self.market_value - self.cost_basis

    @property
    def unrealized_pct(self) -> Decimal | None:
        return _pct(self.unrealized, self.cost_basis)


@dataclass
class Portfolio:
    """An account's balances and holdings. Day change is the equity's since the previous
    close net of deposits and withdrawals: the holdings' values now, less the value at
    the close of what was held then, plus the cash trades, commissions and fees moved
    since (`trading_cash`; `sold_out_value`: positions held then and sold since)."""

    account: Account
    balances: ledger.Balances
    holdings: list[Holding] = field(default_factory=list)
    trading_cash: Decimal = ZERO
    sold_out_value: Decimal = ZERO

    @property
    def market_value(self) -> Decimal:
        return sum((h.market_value for h in self.holdings), ZERO)

    @property
    def equity(self) -> Decimal:
        return self.balances.cash + self.market_value

    @property
    def day_change(self) -> Decimal:
        start = sum((h.start_value for h in self.holdings), ZERO) + self.sold_out_value
        return self.market_value + self.trading_cash - start

    @property
    def day_change_pct(self) -> Decimal | None:
        return _pct(self.day_change, self.equity - self.day_change)

    @property
    def unrealized(self) -> Decimal:
        return sum((h.unrealized for h in self.holdings), ZERO)

    @property
    def unrealized_pct(self) -> Decimal | None:
        return _pct(self.unrealized, sum((h.cost_basis for h in self.holdings), ZERO))

    @property
    def allocation(self) -> list[tuple[str, Decimal, Decimal]]:
        """(label, value, percent of equity): cash first, then holdings by value."""
        equity = self.equity
        parts = [("Cash", self.balances.cash)] + [
            (h.symbol, h.market_value)
            for h in sorted(self.holdings, key=lambda h: h.market_value, reverse=True)
        ]
        return [(label, value, _pct(value, equity) or ZERO) for label, value in parts]


@dataclass
class _Trades:
    symbol: str
    bought: int = 0
    bought_cost: Decimal = ZERO
    sold: int = 0


def trades_since(account: Account, since: datetime) -> dict[int, _Trades]:
    """Shares bought and sold per security since `since` (one query)."""
    rows = (
        Execution.objects.filter(order__account=account, executed_at__gte=since)
        .values("order__security_id", "order__security__symbol", "order__side")
        .annotate(
            shares=Sum("qty"),
            cost=Sum(F("qty") * F("price"), output_field=DecimalField(decimal_places=4)),
        )
    )
    trades: dict[int, _Trades] = {}
    for row in rows:
        t = trades.setdefault(row["order__security_id"], _Trades(row["order__security__symbol"]))
        if row["order__side"] == OrderSide.BUY:
            t.bought, t.bought_cost = row["shares"], Decimal(row["cost"])
        else:
            t.sold = row["shares"]
    return trades


def split_since_previous_close(account: Account, positions: list[Position]) -> list[tuple]:
    """(symbol, new, old) of the splits applied to the account's positions
    whose ex-date is after the previous close (one query; none without positions)."""
    if not positions:
        return []
    since = timezone.localtime(market_data.previous_close_time(), market_data.NEW_YORK).date()
    return list(
        PositionAdjustment.objects.filter(
            account=account,
            kind=PositionAdjustment.Kind.SPLIT,
            ratio_new__isnull=False,
            effective_on__gt=since,
        ).values_list("security__symbol", "ratio_new", "ratio_old")
    )


def holdings(account: Account, trades: dict[int, _Trades] | None = None) -> list[Holding]:
    """Open positions (by symbol) at the latest quotes: one query, one cache round trip
    for quotes and one for previous closes (plus at most two queries on a cache miss).
    `trades`: today's (see trades_since), for the day change of shares bought today."""
    trades = trades or {}
    positions = list(
        Position.objects.filter(account=account)
        .exclude(qty=0)
        .select_related("security")
        .order_by("security__symbol")
    )
    symbols = [p.security.symbol for p in positions]
    quotes = market_data.get_quotes(symbols) if symbols else {}
    closes = market_data.get_previous_closes(symbols) if symbols else {}
    # A split since the previous close: that close in today's shares (as quote vendors
    # adjust it), so the split is no day change.
    for symbol, new, old in split_since_previous_close(account, positions):
        if closes.get(symbol) is not None:
            closes[symbol] = (closes[symbol] * old / new).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    none = _Trades("")
    return [
        Holding(
            security=p.security,
            qty=p.qty,
            avg_cost=p.avg_cost,
            realized_pnl=p.realized_pnl,
            last=quotes[p.security.symbol].last if p.security.symbol in quotes else None,
            previous_close=closes.get(p.security.symbol),
            bought_today=trades.get(p.security_id, none).bought,
            bought_today_cost=trades.get(p.security_id, none).bought_cost,
            net_today=trades.get(p.security_id, none).bought - trades.get(p.security_id, none).sold,
        )
        for p in positions
    ]


def portfolio(account: Account) -> Portfolio:
    since = market_data.previous_close_time()
    trades = trades_since(account, since)
    held = holdings(account, trades)
    long_value = sum((h.market_value for h in held if h.qty > 0), ZERO)
    lmv = long_value if account.is_margin else ZERO
    held_ids = {h.security.pk for h in held}
    sold_out = {t.symbol: t.sold - t.bought for pk, t in trades.items() if pk not in held_ids}
    sold_out = {symbol: shares for symbol, shares in sold_out.items() if shares}
    closes = market_data.get_previous_closes(list(sold_out)) if sold_out else {}
    return Portfolio(
        account,
        ledger.balances(account, long_market_value=lmv),
        held,
        trading_cash=ledger.trading_cash_since(account, since),
        sold_out_value=sum(
            ((closes.get(symbol) or ZERO) * shares for symbol, shares in sold_out.items()), ZERO
        ).quantize(CENT, ROUND_HALF_UP),
    )


def history(account: Account, period: str = "1M", today: date | None = None) -> list[tuple]:
    """(date, equity, P&L since the period began net of transfers) per trading day of
    `period` (one of PERIODS) from the daily snapshots, oldest first."""
    today = today or timezone.localdate()
    snapshots = AccountSnapshot.objects.filter(account=account)
    days = PERIODS.get(period, PERIODS["1M"])
    if days is not None:
        snapshots = snapshots.filter(date__gte=today - timedelta(days=days))
    rows = list(snapshots.order_by("date").values_list("date", "equity", "net_transfers"))
    if not rows:
        return []
    _, base_equity, base_transfers = rows[0]
    return [
        (day, equity, (equity - base_equity) - (transfers - base_transfers))
        for day, equity, transfers in rows
    ]


@dataclass(frozen=True)
class Chart:
    """An SVG line chart's geometry (viewBox 0 0 WIDTH HEIGHT) for the template."""

    points: str
    area: str
    low: Decimal
    high: Decimal
    first: date
    last: date
    change: Decimal
    change_pct: Decimal | None

    WIDTH = 600
    HEIGHT = 200


def chart(series: list[tuple[date, Decimal]]) -> Chart | None:
    """Scale (date, value) pairs into the chart; None with fewer than two points."""
    if len(series) < 2:
        return None
    values = [value for _, value in series]
    low, high = min(values), max(values)
    span = (high - low) or Decimal("1")
    step = Decimal(Chart.WIDTH) / (len(series) - 1)
    top, usable = Decimal(8), Decimal(Chart.HEIGHT - 16)
    coords = [
        (step * i, top + usable - (value - low) / span * usable) for i, value in enumerate(values)
    ]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = f"0,{Chart.HEIGHT} {points} {Chart.WIDTH},{Chart.HEIGHT}"
    change = values[-1] - values[0]
    return Chart(
        points=points,
        area=area,
        low=low,
        high=high,
        first=series[0][0],
        last=series[-1][0],
        change=change,
        change_pct=_pct(change, values[0]),
    )


@dataclass(frozen=True)
class Totals:
    equity: Decimal
    cash: Decimal
    market_value: Decimal
    buying_power: Decimal
    day_change: Decimal
    day_change_pct: Decimal | None
    unrealized: Decimal


def combine(portfolios: list[Portfolio]) -> Totals:
    """The sum of several accounts (a customer's combined view)."""
    equity = sum((p.equity for p in portfolios), ZERO)
    day_change = sum((p.day_change for p in portfolios), ZERO)
    return Totals(
        equity=equity,
        cash=sum((p.balances.cash for p in portfolios), ZERO),
        market_value=sum((p.market_value for p in portfolios), ZERO),
        buying_power=sum((p.balances.buying_power for p in portfolios), ZERO),
        day_change=day_change,
        day_change_pct=_pct(day_change, equity - day_change),
        unrealized=sum((p.unrealized for p in portfolios), ZERO),
    )
