"""What an account holds and what it is worth now: positions valued at the latest
quotes, day change against the previous close, unrealized P&L against average cost,
balances from the cash ledger, and the account's value history from its daily
snapshots. Reads only, in a fixed number of queries whatever the number of positions."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from accounts.money import ledger
from accounts.opening.models import Account
from trading.market import market_data
from trading.market.models import Security
from trading.orders.models import Position
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
    security: Security
    qty: int
    avg_cost: Decimal
    realized_pnl: Decimal
    last: Decimal | None
    previous_close: Decimal | None

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
    def day_change(self) -> Decimal:
        if self.last is None or self.previous_close is None:
            return ZERO
        return ((self.last - self.previous_close) * self.qty).quantize(CENT, ROUND_HALF_UP)

    @property
    def day_change_pct(self) -> Decimal | None:
        if self.last is None or not self.previous_close:
            return None
        return _pct(self.last - self.previous_close, self.previous_close)

    @property
    def unrealized(self) -> Decimal:
        return self.market_value - self.cost_basis

    @property
    def unrealized_pct(self) -> Decimal | None:
        return _pct(self.unrealized, self.cost_basis)


@dataclass
class Portfolio:
    account: Account
    balances: ledger.Balances
    holdings: list[Holding] = field(default_factory=list)

    @property
    def market_value(self) -> Decimal:
        return sum((h.market_value for h in self.holdings), ZERO)

    @property
    def equity(self) -> Decimal:
        return self.balances.cash + self.market_value

    @property
    def day_change(self) -> Decimal:
        return sum((h.day_change for h in self.holdings), ZERO)

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


def holdings(account: Account) -> list[Holding]:
    """Open positions (by symbol) at the latest quotes: one query, one cache round trip
    for quotes and one for previous closes (plus at most two queries on a cache miss)."""
    positions = list(
        Position.objects.filter(account=account)
        .exclude(qty=0)
        .select_related("security")
        .order_by("security__symbol")
    )
    symbols = [p.security.symbol for p in positions]
    quotes = market_data.get_quotes(symbols) if symbols else {}
    closes = market_data.get_previous_closes(symbols) if symbols else {}
    return [
        Holding(
            security=p.security,
            qty=p.qty,
            avg_cost=p.avg_cost,
            realized_pnl=p.realized_pnl,
            last=quotes[p.security.symbol].last if p.security.symbol in quotes else None,
            previous_close=closes.get(p.security.symbol),
        )
        for p in positions
    ]


def portfolio(account: Account) -> Portfolio:
    held = holdings(account)
    long_value = sum((h.market_value for h in held if h.qty > 0), ZERO)
    lmv = long_value if account.is_margin else ZERO
    return Portfolio(account, ledger.balances(account, long_market_value=lmv), held)


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
