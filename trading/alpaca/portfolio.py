"""The account as the trading API shows it: the account summary, positions valued at
the latest quotes, activities from executions and the cash ledger, and portfolio
history from the daily account snapshots. Each read runs a fixed number of queries,
whatever the number of positions."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone

from accounts.money import ledger
from accounts.money.models import (
    JournalEntry,
    JournalEntryKind,
    LedgerAccountKind,
    Transfer,
    TransferDirection,
    TransferStatus,
)
from accounts.opening.models import Account, AccountStatus, AccountType
from trading.alpaca import errors, formats
from trading.alpaca.formats import account_id, exchange, parse_uuid, text
from trading.market import market_data
from trading.market.models import Security
from trading.orders import configuration
from trading.orders.entry import promised_shares
from trading.orders.models import (
    Execution,
    Order,
    OrderSide,
    Position,
    PositionAdjustment,
)
from trading.reporting.models import AccountSnapshot

CENT = Decimal("0.01")
ZERO = Decimal("0")
MAINTENANCE_MARGIN = Decimal("0.25")  # FINRA Rule 4210 minimum on long positions


@dataclass(frozen=True)
class ValuedPosition:
    position: Position
    current_price: Decimal
    lastday_price: Decimal
    qty_available: int

    @property
    def market_value(self) -> Decimal:
        return (self.position.qty * self.current_price).quantize(CENT, ROUND_HALF_UP)

    @property
    def cost_basis(self) -> Decimal:
        return (self.position.qty * self.position.avg_cost).quantize(CENT, ROUND_HALF_UP)

    def as_dict(self) -> dict:
        p, security = self.position, self.position.security
        unrealized = self.market_value - self.cost_basis
        last_value = (p.qty * self.lastday_price).quantize(CENT, ROUND_HALF_UP)
        intraday = self.market_value - last_value
        return {
            "asset_id": str(security.uuid),
            "symbol": security.symbol,
            "exchange": exchange(security),
            "asset_class": "us_equity",
            "asset_marginable": security.marginable,
            "qty": text(p.qty),
            "qty_available": text(self.qty_available),
            "avg_entry_price": text(p.avg_cost),
            "side": "long" if p.qty > 0 else "short",
            "market_value": text(self.market_value),
            "cost_basis": text(self.cost_basis),
            "unrealized_pl": text(unrealized),
            "unrealized_plpc": _ratio(unrealized, self.cost_basis),
            "unrealized_intraday_pl": text(intraday),
            "unrealized_intraday_plpc": _ratio(intraday, last_value),
            "current_price": text(self.current_price),
            "lastday_price": text(self.lastday_price),
            "change_today": _ratio(self.current_price - self.lastday_price, self.lastday_price),
        }


def _ratio(part: Decimal, whole: Decimal) -> str:
    return text((part / whole).quantize(Decimal("0.0000000001"))) if whole else "0"


def valued_positions(account: Account, symbol_or_id: str | None = None) -> list[ValuedPosition]:
    """Open positions (non-zero quantity), by symbol, valued at the latest quotes: one
    query for the positions, one for open sell orders, and the quote cache for the
    quotes and previous closes (market_data.get_previous_closes)."""
    positions = Position.objects.filter(account=account).exclude(qty=0).select_related("security")
    if symbol_or_id is not None:
        asset_uuid = parse_uuid(symbol_or_id)
        positions = positions.filter(
            Q(security__uuid=asset_uuid) if asset_uuid else Q(security__symbol=symbol_or_id.upper())
        )
    positions = list(positions.order_by("security__symbol"))
    if not positions:
        return []
    security_ids = [p.security_id for p in positions]
    promised = promised_shares(account, security_ids)
    symbols = [p.security.symbol for p in positions]
    closes = market_data.get_previous_closes(symbols)
    quotes = market_data.get_quotes(symbols)
    out = []
    for p in positions:
        quote = quotes.get(p.security.symbol)
        current = quote.last if quote else p.avg_cost
        lastday = closes.get(p.security.symbol, current)
        available = max(p.qty - (promised.get(p.security_id) or 0), 0)
        out.append(ValuedPosition(p, current, lastday, available))
    return out


def position(account: Account, symbol_or_id: str) -> ValuedPosition:
    found = valued_positions(account, symbol_or_id)
    if not found:
        raise errors.not_found("position does not exist")
    return found[0]


def _status(account: Account) -> str:
    return {
        AccountStatus.ACTIVE: "ACTIVE",
        AccountStatus.RESTRICTED: "ACTIVE",
        AccountStatus.CLOSED: "ACCOUNT_CLOSED",
    }.get(account.status, "INACTIVE")


def _pending_transfers(account: Account) -> dict[str, Decimal]:
    pending = Transfer.objects.filter(
        account=account, status__in=(TransferStatus.REQUESTED, TransferStatus.PENDING)
    ).aggregate(
        incoming=Sum("amount", filter=Q(direction=TransferDirection.DEPOSIT)),
        outgoing=Sum("amount", filter=Q(direction=TransferDirection.WITHDRAWAL)),
    )
    return {"in": pending["incoming"] or ZERO, "out": pending["outgoing"] or ZERO}


def account_summary(account: Account) -> dict:
    """GET /v2/account."""
    positions = valued_positions(account)
    long_value = sum((v.market_value for v in positions if v.position.qty > 0), ZERO)
    balances = ledger.balances(account, long_market_value=long_value)
    cash_only = ledger.balances(account)  # the cash side alone: non-marginable buying power
    margin = account.account_type == AccountType.INDIVIDUAL_MARGIN
    last = (
        AccountSnapshot.objects.filter(account=account, date__lt=timezone.localdate())
        .order_by("-date")
        .values_list("equity", flat=True)
        .first()
    )
    pending = _pending_transfers(account)
    initial = (long_value * ledger.REG_T_INITIAL_MARGIN).quantize(CENT) if margin else ZERO
    maintenance = (long_value * MAINTENANCE_MARGIN).quantize(CENT) if margin else ZERO
    last_maintenance = (
        ((last or ZERO) - balances.cash) * MAINTENANCE_MARGIN if margin and last else maintenance
    )
    blocked = account.status != AccountStatus.ACTIVE
    return {
        "id": account_id(account),
        "account_number": account.account_number,
        "status": _status(account),
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "buying_power": text(balances.buying_power),
        "regt_buying_power": text(balances.buying_power),
        "daytrading_buying_power": "0",
        "effective_buying_power": text(balances.buying_power),
        "non_marginable_buying_power": text(
            cash_only.withdrawable if margin else balances.buying_power
        ),
        "options_buying_power": "0",
        "bod_dtbp": "0",
        "cash": text(balances.cash),
        "accrued_fees": "0",
        "pending_transfer_in": text(pending["in"]),
        "pending_transfer_out": text(pending["out"]),
        "portfolio_value": text(balances.equity),
        "pattern_day_trader": False,
        "trading_blocked": blocked,
        "transfers_blocked": blocked,
        "account_blocked": account.status == AccountStatus.CLOSED,
        "created_at": account.opened_at,
        "trade_suspended_by_user": configuration.configuration(account).suspend_trade,
        "multiplier": "2" if margin else "1",
        "shorting_enabled": False,
        "equity": text(balances.equity),
        "last_equity": text(last if last is not None else balances.equity),
        "long_market_value": text(long_value),
        "short_market_value": "0",
        "position_market_value": text(long_value),
        "initial_margin": text(initial),
        "maintenance_margin": text(maintenance),
        "last_maintenance_margin": text(max(last_maintenance, ZERO).quantize(CENT)),
        "sma": "0",
        "daytrade_count": 0,
        "options_approved_level": 0,
        "options_trading_level": 0,
    }


# --- Activities ----------------------------------------------------------------------------

# Ledger entries as Alpaca's non-trade activity types (trades are FILL activities, from
# the executions, so the ledger's buy and sell entries are left out).
ACTIVITY_TYPES = {
    JournalEntryKind.DEPOSIT: "CSD",
    JournalEntryKind.WITHDRAWAL: "CSW",
    JournalEntryKind.FEE: "FEE",
    JournalEntryKind.INTEREST: "INT",
    JournalEntryKind.ADJUSTMENT: "JNLC",
    JournalEntryKind.REVERSAL: "JNLC",
    JournalEntryKind.DIVIDEND: "DIV",
    JournalEntryKind.NRA_WITHHOLDING: "DIVNRA",  # "Dividend adjustment (NRA withheld)"
    # Backup withholding: DIVWH, the tax-withheld type alpaca-py's ActivityType knows.
    JournalEntryKind.BACKUP_WITHHOLDING: "DIVWH",
    JournalEntryKind.CASH_IN_LIEU: "CIL",  # "Cash in lieu of stock"
}
# Stock splits change positions, not cash: from the position adjustments.
SUPPORTED_ACTIVITY_TYPES = {"FILL", "SPLIT", *ACTIVITY_TYPES.values()}
# Every type Alpaca documents: asking for one we never produce is not an error.
ALPACA_ACTIVITY_TYPES = SUPPORTED_ACTIVITY_TYPES | set(
    [
        "ACATC",
        "ACATS",
        "CFEE",
        "CIL",
        "DIV",
        "DIVCGL",
        "DIVCGS",
        "DIVNRA",
        "DIVROC",
        "DIVTXEX",
        "DIVWH",
        "EXTRD",
        "FXTRD",
        "INTPNL",
        "JNLS",
        "MA",
        "MEM",
        "NC",
        "OCT",
        "OPASN",
        "OPCSH",
        "OPEXC",
        "OPEXP",
        "OPTRD",
        "PTC",
        "REORG",
        "SPIN",
        "SPLIT",
        "SWP",
        "VOF",
        "WH",
    ]
)
MAX_PAGE_SIZE = 100


def _activity_id(at: datetime, kind: str, pk: int) -> str:
    """Like Alpaca's ids ("20240102150405123456::..."): time-ordered, and a page token."""
    return f"{at.astimezone(timezone.UTC):%Y%m%d%H%M%S%f}::{kind}{pk:012d}"


def _parse_day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:  # a date, or an RFC 3339 time whose date is meant (as the SDKs may send it)
        day = (
            date.fromisoformat(value)
            if len(value) == 10
            else datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        )
    except ValueError:
        raise errors.invalid(f"{name} must be a date, e.g. 2024-01-31") from None
    if not formats.date_in_range(day):
        raise errors.invalid(formats.range_message(name))
    return day


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=market_data.NEW_YORK)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class _ActivityQuery:
    """The checked parameters of an activities request."""

    wanted: set[str]
    descending: bool
    size: int
    start: datetime | None
    end: datetime | None
    token_time: datetime | None

    def bounded(self, queryset, field: str):
        """`queryset` within the time bounds and the page, in the asked order, with a
        margin for the other kind of activity merged in."""
        if self.start:
            queryset = queryset.filter(**{f"{field}__gte": self.start})
        if self.end:
            queryset = queryset.filter(**{f"{field}__lt": self.end})
        if self.token_time:
            lookup = "lte" if self.descending else "gte"
            queryset = queryset.filter(**{f"{field}__{lookup}": self.token_time})
        order = (f"-{field}", "-id") if self.descending else (field, "id")
        return queryset.order_by(*order)[: self.size + 50]


def activities(
    account: Account,
    *,
    activity_types: list[str] | None = None,
    date_: str | None = None,
    after: str | None = None,
    until: str | None = None,
    direction: str = "desc",
    page_size: int | None = None,
    page_token: str | None = None,
) -> list[dict]:
    """GET /v2/account/activities: fills and cash activities, newest first (or `asc`),
    at most `page_size` (100); `page_token` is the id of the last one seen."""
    query = _activity_query(activity_types, date_, after, until, direction, page_size, page_token)
    items = (
        _fill_activities(account, query)
        + _cash_activities(account, query)
        + _split_activities(account, query)
    )
    items.sort(key=lambda item: item[0], reverse=query.descending)
    if page_token:
        items = [
            item
            for item in items
            if (item[0] < page_token if query.descending else item[0] > page_token)
        ]
    return [data for _, data in items[: query.size]]


def _activity_query(
    activity_types, date_, after, until, direction, page_size, page_token
) -> _ActivityQuery:
    wanted = set(activity_types or SUPPORTED_ACTIVITY_TYPES)
    unknown = wanted - ALPACA_ACTIVITY_TYPES
    if unknown:
        raise errors.invalid(f"invalid activity type: {', '.join(sorted(unknown))}", status=400)
    if direction not in ("asc", "desc"):
        raise errors.invalid("direction must be asc or desc")
    size = page_size or MAX_PAGE_SIZE
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise errors.invalid(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    start = end = None
    if date_:
        start, end = _day_bounds(_parse_day(date_, "date"))
    if after:
        start = _parse_time(after, "after")
    if until:
        end = _parse_time(until, "until")
    token_time = None
    if page_token:
        try:
            token_time = datetime.strptime(page_token.split("::")[0], "%Y%m%d%H%M%S%f").replace(
                tzinfo=timezone.UTC
            )
        except ValueError:
            raise errors.invalid("invalid page_token", status=400) from None
    return _ActivityQuery(wanted, direction == "desc", size, start, end, token_time)


def _fill_activities(account: Account, query: _ActivityQuery) -> list[tuple[str, dict]]:
    if "FILL" not in query.wanted:
        return []
    fills = query.bounded(
        Execution.objects.filter(order__account=account)
        .select_related("order__security")
        .annotate(
            cum_qty=Subquery(
                Execution.objects.filter(order=OuterRef("order"), id__lte=OuterRef("id"))
                .values("order")
                .annotate(total=Sum("qty"))
                .values("total")
            )
        ),
        "executed_at",
    )
    items = []
    for ex in fills:
        activity_id = _activity_id(ex.executed_at, "F", ex.pk)
        items.append((activity_id, _fill(account, ex, ex.order, activity_id)))
    return items


def _cash_activities(account: Account, query: _ActivityQuery) -> list[tuple[str, dict]]:
    cash_types = {kind for kind, code in ACTIVITY_TYPES.items() if code in query.wanted}
    if not cash_types:
        return []
    entries = query.bounded(
        JournalEntry.objects.filter(account=account, kind__in=cash_types).annotate(
            net_amount=Sum(
                "postings__amount",
                filter=Q(
                    postings__ledger_account__account=account,
                    postings__ledger_account__kind=LedgerAccountKind.CUSTOMER_CASH,
                ),
            )
        ),
        "created_at",
    )
    items = []
    for entry in entries:
        activity_id = _activity_id(entry.created_at, "J", entry.pk)
        items.append((activity_id, _cash(account, entry, activity_id)))
    return items


def _split_activities(account: Account, query: _ActivityQuery) -> list[tuple[str, dict]]:
    if "SPLIT" not in query.wanted:
        return []
    adjustments = query.bounded(
        PositionAdjustment.objects.filter(
            account=account, kind=PositionAdjustment.Kind.SPLIT
        ).select_related("security"),
        "created_at",
    )
    items = []
    for adjustment in adjustments:
        activity_id = _activity_id(adjustment.created_at, "S", adjustment.pk)
        items.append(
            (
                activity_id,
                {
                    "id": activity_id,
                    "account_id": account_id(account),
                    "activity_type": "SPLIT",
                    "date": adjustment.effective_on,
                    "symbol": adjustment.security.symbol,
                    "qty": text(adjustment.qty_change),
                    "net_amount": "0",
                    "description": adjustment.description,
                    "status": "executed",
                },
            )
        )
    return items


def _fill(account: Account, ex: Execution, order: Order, activity_id: str) -> dict:
    cum_qty = ex.cum_qty
    return {
        "id": activity_id,
        "account_id": account_id(account),
        "activity_type": "FILL",
        "transaction_time": ex.executed_at,
        "type": "fill" if cum_qty >= order.qty else "partial_fill",
        "price": text(ex.price),
        "qty": text(ex.qty),
        "side": order.side,
        "symbol": order.security.symbol,
        "leaves_qty": text(max(order.qty - cum_qty, 0)),
        "order_id": str(order.uuid),
        "cum_qty": text(cum_qty),
        "order_status": order.status,
    }


def _cash(account: Account, entry: JournalEntry, activity_id: str) -> dict:
    return {
        "id": activity_id,
        "account_id": account_id(account),
        "activity_type": ACTIVITY_TYPES[entry.kind],
        "date": entry.effective_on,  # the day it counts from on the books
        "net_amount": text(entry.net_amount or ZERO),
        "description": entry.description,
        "status": "executed",
    }


def _parse_time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise errors.invalid(f"{name} must be an RFC 3339 time or a date") from None
    if not formats.date_in_range(parsed):
        raise errors.invalid(formats.range_message(name))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=market_data.NEW_YORK)


# --- Portfolio history -----------------------------------------------------------------------

PERIOD_UNITS = {"D": 1, "W": 7, "M": 30, "A": 365}


def _period_days(period: str) -> int:
    number, unit = period[:-1], period[-1:].upper()
    if unit not in PERIOD_UNITS or not number.isdigit() or int(number) < 1:
        raise errors.invalid("period must be a number and a unit: D, W, M or A (e.g. 1M)")
    return min(int(number) * PERIOD_UNITS[unit], 365 * 30)


INTRADAY_MINUTES = {"1Min": 1, "5Min": 5, "15Min": 15, "1H": 60}
TIMEFRAMES = ", ".join([*INTRADAY_MINUTES, "1D"])


def _default_timeframe(days: int) -> str:
    """Alpaca's: 1Min for periods under 7 days, 15Min under 30 days, else 1D."""
    return "1Min" if days < 7 else "15Min" if days < 30 else "1D"


def portfolio_history(
    account: Account,
    *,
    period: str | None = None,
    timeframe: str | None = None,
    date_end: str | None = None,
    start: str | None = None,
    end: str | None = None,
    at: datetime | None = None,
) -> dict:
    """GET /v2/account/portfolio/history. Daily (1D) from the daily snapshots with a
    point for today at the current value; intraday (1Min, 5Min, 15Min, 1H, for periods
    under 30 days) from the account's cash and positions replayed over the sessions,
    valued at the market's path, up to now. profit_loss is from the first point's base
    value, net of deposits and withdrawals since."""
    at = at or timezone.now()
    today = at.astimezone(market_data.NEW_YORK).date()
    last_day = today
    if end:
        last_day = _parse_time(end, "end").astimezone(market_data.NEW_YORK).date()
    elif date_end:
        last_day = _parse_day(date_end, "date_end")
    if start:
        first_day = _parse_time(start, "start").astimezone(market_data.NEW_YORK).date()
    else:
        first_day = last_day - timedelta(days=_period_days(period or "1M"))
    if first_day > last_day:
        raise errors.invalid("start must be before end")
    span = (last_day - first_day).days
    timeframe = timeframe or _default_timeframe(span)
    if timeframe == "1D":
        return _daily_history(account, first_day, last_day, today)
    if timeframe not in INTRADAY_MINUTES:
        raise errors.invalid(f"timeframe must be one of {TIMEFRAMES}")
    if span >= 30:
        raise errors.invalid("intraday timeframes need a period under 30 days (e.g. 1W)")
    return _intraday_history(account, first_day, last_day, INTRADAY_MINUTES[timeframe], at)


def _history(timestamps, equity, base: Decimal, transfers, asof, timeframe: str) -> dict:
    profit_loss, profit_loss_pct = [], []
    for value, moved in zip(equity, transfers, strict=True):
        pl = (value - base) - moved
        profit_loss.append(float(pl.quantize(CENT)))
        profit_loss_pct.append(float((pl / base).quantize(Decimal("0.000001"))) if base else 0.0)
    return {
        "timestamp": timestamps,
        "equity": [float(v.quantize(CENT)) for v in equity],
        "profit_loss": profit_loss,
        "profit_loss_pct": profit_loss_pct,
        "base_value": float(base.quantize(CENT)),
        "base_value_asof": asof,
        "timeframe": timeframe,
    }


def _equity_now(account: Account) -> Decimal:
    positions = valued_positions(account)
    long_value = sum((v.market_value for v in positions if v.position.qty > 0), ZERO)
    return ledger.balances(account, long_market_value=long_value).equity


def _daily_history(account: Account, first_day: date, last_day: date, today: date) -> dict:
    rows = list(
        AccountSnapshot.objects.filter(account=account, date__gte=first_day, date__lte=last_day)
        .order_by("date")
        .values_list("date", "equity", "net_transfers")
    )
    if first_day <= today <= last_day and (not rows or rows[-1][0] < today):
        # Today's point: the account as it stands (its snapshot is taken after the close).
        moved = _net_transfers(account) if rows else ZERO
        rows.append((today, _equity_now(account), moved))
    base, base_transfers = (rows[0][1], rows[0][2]) if rows else (ZERO, ZERO)
    return _history(
        [int(_day_bounds(day)[0].timestamp()) for day, _, _ in rows],
        [value for _, value, _ in rows],
        base,
        [transfers - base_transfers for _, _, transfers in rows],
        rows[0][0].isoformat() if rows else None,
        "1D",
    )


TRANSFER_KINDS = (JournalEntryKind.DEPOSIT, JournalEntryKind.WITHDRAWAL)


def _cash_postings(account: Account):
    return (
        JournalEntry.objects.filter(
            account=account,
            postings__ledger_account__account=account,
            postings__ledger_account__kind=LedgerAccountKind.CUSTOMER_CASH,
        )
        .values_list("created_at", "kind")
        .annotate(amount=Sum("postings__amount"))
    )


def _net_transfers(account: Account) -> Decimal:
    """Deposits less withdrawals ever (what the daily snapshots call net_transfers)."""
    moved = _cash_postings(account).filter(kind__in=TRANSFER_KINDS)
    return sum((amount for _, _, amount in moved), ZERO)


def _intraday_history(
    account: Account, first_day: date, last_day: date, minutes: int, at: datetime
) -> dict:
    """Replay cash (ledger postings) and positions (executions) over the sessions from
    `first_day` (exclusive, unless it is the only day) to `last_day`, a point per window
    of `minutes`, each valued at the end of its window (or now) at the path's prices."""
    sessions = [
        s for s in market_data.sessions_between(first_day + timedelta(1), last_day) if s.open <= at
    ]
    if not sessions:  # a weekend or holiday: the session before
        last = market_data.sessions_between(last_day - timedelta(days=10), last_day)
        sessions = [s for s in last if s.open <= at][-1:]
    if not sessions:
        return _history([], [], ZERO, [], None, _timeframe_name(minutes))
    begin = sessions[0].open
    finish = min(sessions[-1].close, at)
    cash = sum(
        (amount for _, _, amount in _cash_postings(account).filter(created_at__lt=begin)), ZERO
    )
    cash_events = sorted(
        _cash_postings(account).filter(created_at__gte=begin, created_at__lte=finish)
    )
    held: dict[int, int] = {}
    for security_id, side, qty in Execution.objects.filter(
        order__account=account, executed_at__lt=begin
    ).values_list("order__security_id", "order__side", "qty"):
        held[security_id] = held.get(security_id, 0) + (qty if side == OrderSide.BUY else -qty)
    trade_events = list(
        Execution.objects.filter(
            order__account=account, executed_at__gte=begin, executed_at__lte=finish
        )
        .order_by("executed_at", "id")
        .values_list("executed_at", "order__security_id", "order__side", "qty")
    )
    ids = set(held) | {event[1] for event in trade_events}
    securities = {s.pk: s for s in Security.objects.filter(pk__in=ids)}

    def value(moment: datetime, session) -> Decimal:
        total = cash
        for security_id, qty in held.items():
            if qty:
                ticks = market_data.session_ticks(securities[security_id], session)
                total += qty * Decimal(str(ticks.price_at(moment)))
        return total

    base = value(begin, sessions[0])
    timestamps, equity, transfers = [], [], []
    moved = ZERO
    cash_i = trade_i = 0
    width = timedelta(minutes=minutes)
    for session in sessions:
        window = session.open
        while window < session.close and window <= at:
            measured = min(window + width, session.close, at)
            while cash_i < len(cash_events) and cash_events[cash_i][0] <= measured:
                _, kind, amount = cash_events[cash_i]
                cash += amount
                if kind in TRANSFER_KINDS:
                    moved += amount
                cash_i += 1
            while trade_i < len(trade_events) and trade_events[trade_i][0] <= measured:
                _, security_id, side, qty = trade_events[trade_i]
                held[security_id] = held.get(security_id, 0) + (
                    qty if side == OrderSide.BUY else -qty
                )
                trade_i += 1
            timestamps.append(int(window.timestamp()))
            equity.append(value(measured, session))
            transfers.append(moved)
            window += width
    asof = sessions[0].previous.isoformat()
    return _history(timestamps, equity, base, transfers, asof, _timeframe_name(minutes))


def _timeframe_name(minutes: int) -> str:
    return {value: name for name, value in INTRADAY_MINUTES.items()}[minutes]
