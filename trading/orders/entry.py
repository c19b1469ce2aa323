"""Order entry: pre-trade checks, buying power holds, idempotent submission, and the
outbox rows the routing gateway sends (see docs/order-lifecycle.md).

Everything a request changes happens in one transaction with the account row locked:
two requests cannot spend the same dollar or the same share, and a refused order
leaves nothing behind (no order, no hold, no outbox row).

Market session: market orders and IOC/FOK orders are accepted only while the regular
session is open (a market order queued overnight would fill at an unknown opening
price); limit and stop orders may be placed any time and work from the next open.
No short sales: a sell needs the shares, less those already in open sell orders.
"""

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Sum

from accounts.money import ledger
from accounts.money.models import Hold
from accounts.opening.models import Account, AccountStatus
from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError
from trading.market import market_data
from trading.market.models import Security
from trading.orders import configuration, events, fees
from trading.orders.models import (
    OPEN_STATUSES,
    PLAIN_ORDER_TYPES,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    OutboxMessage,
    Position,
    TimeInForce,
)

CENT = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")


def _invalid(field: str, code: str, message: str, status: int = 400) -> ServiceError:
    return ServiceError(code, message, {field: FieldError(code, message)}, status=status)


@dataclass(frozen=True)
class OrderRequest:
    """A checked order request: what `place_order` and `replace_order` work from."""

    symbol: str
    side: str
    order_type: str
    time_in_force: str
    qty: int
    limit_price: Decimal | None
    stop_price: Decimal | None

    def content_hash(self) -> str:
        data = {k: str(v) if v is not None else None for k, v in self.__dict__.items()}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def parse_qty(value) -> int:
    text = str(value).strip() if value is not None else ""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _invalid("qty", "invalid_qty", "Enter a whole number of shares.") from None
    if not number.is_finite():
        raise _invalid("qty", "invalid_qty", "Enter a whole number of shares.")
    if number != number.to_integral_value():
        raise _invalid("qty", "fractional_qty", "Only whole shares can be traded.")
    if number <= 0:
        raise _invalid("qty", "qty_not_positive", "The quantity must be at least 1 share.")
    if number > settings.MAX_ORDER_QTY:
        raise _invalid(
            "qty", "qty_too_large", f"At most {settings.MAX_ORDER_QTY:,} shares in one order."
        )
    return int(number)


def parse_price(field: str, value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid(field, "invalid_price", "Enter a price in dollars, e.g. 123.45.") from None
    if not price.is_finite():
        raise _invalid(field, "invalid_price", "Enter a price in dollars, e.g. 123.45.")
    if price <= 0:
        raise _invalid(field, "price_not_positive", "The price must be more than $0.")
    if price >= Decimal("1000000"):
        raise _invalid(field, "price_too_large", "The price must be under $1,000,000.")
    return price


def tick_size(security: Security, price: Decimal) -> Decimal:
    """Reg NMS Rule 612: no sub-penny prices at $1.00 or more; $0.0001 below."""
    return max(security.price_increment, CENT) if price >= 1 else SUB_PENNY


def check_request(
    security: Security | None,
    *,
    symbol,
    side,
    order_type,
    time_in_force,
    qty,
    limit_price=None,
    stop_price=None,
    last: Decimal | None = None,
    market_open: bool = True,
) -> OrderRequest:
    """Every check that needs no account: field by field, then the market."""
    errors, qty_value, limit, stop = _field_errors(
        security, symbol, side, order_type, time_in_force, qty, limit_price, stop_price
    )
    if security is not None:
        _price_errors(errors, security, {"limit_price": limit, "stop_price": stop}, last)
    if errors:
        raise ServiceError("invalid", f"Please correct these fields: {', '.join(errors)}.", errors)
    _check_tradable(security, order_type, time_in_force, market_open)
    return OrderRequest(security.symbol, side, order_type, time_in_force, qty_value, limit, stop)


def _field_errors(
    security, symbol, side, order_type, time_in_force, qty, limit_price, stop_price
) -> tuple[dict[str, FieldError], int | None, Decimal | None, Decimal | None]:
    """Each field on its own: (errors, quantity, limit price, stop price)."""
    errors: dict[str, FieldError] = {}

    def collect(func, *args):
        try:
            return func(*args)
        except ServiceError as exc:
            errors.update(exc.fields)
            return None

    if security is None:
        errors["symbol"] = FieldError("unknown_symbol", f"No security with symbol {symbol!r}.")
    if side not in OrderSide.values:
        errors["side"] = FieldError("invalid_choice", "Choose buy or sell.")
    if order_type not in PLAIN_ORDER_TYPES:
        errors["type"] = FieldError("invalid_choice", "Choose market, limit, stop or stop_limit.")
    if time_in_force not in TimeInForce.values:
        errors["time_in_force"] = FieldError("invalid_choice", "Choose day, gtc, ioc or fok.")
    qty_value = collect(parse_qty, qty)
    limit = collect(parse_price, "limit_price", limit_price)
    stop = collect(parse_price, "stop_price", stop_price)
    _order_type_errors(errors, order_type, time_in_force, limit_price, stop_price, limit, stop)
    return errors, qty_value, limit, stop


def _order_type_errors(errors, order_type, time_in_force, limit_price, stop_price, limit, stop):
    """The prices an order type needs or forbids, and the time in force it allows."""
    needs_limit = order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
    if needs_limit and limit is None and "limit_price" not in errors:
        errors["limit_price"] = FieldError("required", "A limit order needs a limit price.")
    if not needs_limit and limit_price not in (None, "") and order_type in PLAIN_ORDER_TYPES:
        errors["limit_price"] = FieldError(
            "not_allowed", f"A {order_type} order has no limit price."
        )
    if needs_stop and stop is None and "stop_price" not in errors:
        errors["stop_price"] = FieldError("required", "A stop order needs a stop price.")
    if not needs_stop and stop_price not in (None, "") and order_type in PLAIN_ORDER_TYPES:
        errors["stop_price"] = FieldError("not_allowed", f"A {order_type} order has no stop price.")
    if needs_stop and time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        errors["time_in_force"] = FieldError(
            "invalid_time_in_force", "Stop orders are day or gtc orders."
        )


def _price_errors(
    errors: dict[str, FieldError],
    security: Security,
    prices: dict[str, Decimal | None],
    last: Decimal | None,
) -> None:
    """Prices on the security's tick and, given the last price, within the collar."""
    for field, price in prices.items():
        if price is None or field in errors:
            continue
        tick = tick_size(security, price)
        if price % tick:
            errors[field] = FieldError(
                "price_off_tick", f"Prices of {security.symbol} are in steps of ${tick}."
            )
        elif last and abs(price - last) > last * settings.ORDER_PRICE_COLLAR:
            band = int(settings.ORDER_PRICE_COLLAR * 100)
            errors[field] = FieldError(
                "price_outside_collar",
                f"The price must be within {band}% of the last price (${last:,.2f}).",
            )


def _check_tradable(
    security: Security, order_type: str, time_in_force: str, market_open: bool
) -> None:
    """The security may be traded now, and the session is open if the order needs it."""
    if security.status != Security.Status.ACTIVE or not security.tradable:
        raise _invalid(
            "symbol",
            "symbol_not_tradable",
            f"{security.symbol} cannot be traded here at the moment.",
        )
    if security.halted:
        raise _invalid("symbol", "symbol_halted", f"Trading in {security.symbol} is halted.")
    if not market_open and (
        order_type == OrderType.MARKET or time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
    ):
        raise _invalid(
            "type" if order_type == OrderType.MARKET else "time_in_force",
            "market_closed",
            "The market is closed: market, IOC and FOK orders can be placed "
            "9:30–16:00 ET on trading days. A limit order can be placed now.",
        )


def estimated_price(request: OrderRequest, quote) -> Decimal:
    """The per-share price a buy is held at: its limit, else the ask (or stop) plus a
    buffer for the move before it fills."""
    if request.limit_price is not None:
        return request.limit_price
    basis = request.stop_price or (quote.ask if quote else None)
    if basis is None:
        raise _invalid("symbol", "no_quote", "No price is available for this symbol now.")
    return (basis * (1 + settings.MARKET_ORDER_BUFFER)).quantize(SUB_PENNY)


def estimated_cost(request: OrderRequest, quote) -> tuple[Decimal, Decimal]:
    """(amount to hold, estimated commission) for a buy; a sell holds nothing."""
    commission = fees.commission(request.qty)
    if request.side != OrderSide.BUY:
        return Decimal("0.00"), commission
    principal = (estimated_price(request, quote) * request.qty).quantize(CENT, ROUND_HALF_UP)
    return principal + commission, commission


def shares_available(account: Account, security: Security) -> int:
    """Shares held less those already promised to open sell orders."""
    held = (
        Position.objects.filter(account=account, security=security)
        .values_list("qty", flat=True)
        .first()
        or 0
    )
    return held - promised_shares(account, [security.pk]).get(security.pk, 0)


def promised_shares(account: Account, security_ids: list[int]) -> dict[int, int]:
    """Per security: the shares open sell orders still need. The exit pair of a bracket
    or an oco holds its shares once, not twice (only one of the two can fill): a group
    promises its largest open leg less what its legs have sold. A leg still held until
    its entry fills promises the shares the entry has bought so far. One query."""
    open_groups = Order.objects.filter(
        account=account, status__in=OPEN_STATUSES, group__isnull=False
    ).values("group")
    rows = (
        Order.objects.filter(
            account=account,
            security_id__in=security_ids,
            side=OrderSide.SELL,
            replaced_by__isnull=True,
        )
        .filter(models.Q(status__in=OPEN_STATUSES) | models.Q(group__in=open_groups))
        .values_list("security_id", "group", "status", "qty", "filled_qty", "parent__filled_qty")
    )
    promised: dict[int, int] = {}
    groups: dict = {}
    for security_id, group, status, qty, filled, entry_filled in rows:
        is_open = status in OPEN_STATUSES
        if status == OrderStatus.HELD and entry_filled is not None:
            qty = min(qty, entry_filled)
        if group is None:
            promised[security_id] = promised.get(security_id, 0) + qty - filled
            continue
        largest, sold = groups.get((security_id, group), (0, 0))
        groups[(security_id, group)] = (max(largest, qty if is_open else 0), sold + filled)
    for (security_id, _), (largest, sold) in groups.items():
        promised[security_id] = promised.get(security_id, 0) + max(largest - sold, 0)
    return promised


def long_market_value(account: Account) -> Decimal:
    positions = list(Position.objects.filter(account=account, qty__gt=0).select_related("security"))
    quotes = market_data.get_quotes([p.security.symbol for p in positions]) if positions else {}
    return sum(
        (p.qty * quotes[p.security.symbol].last for p in positions if p.security.symbol in quotes),
        Decimal("0"),
    ).quantize(CENT)


def new_cl_ord_id() -> str:
    """A FIX ClOrdID unique across restarts: milliseconds and randomness."""
    return f"RT{int(time.time() * 1000):x}{secrets.token_hex(3)}".upper()


def _outbox_row(order: Order, kind: str, cl_ord_id: str, **extra) -> OutboxMessage:
    payload = {
        "symbol": order.security.symbol,
        "side": order.side,
        "qty": order.qty,
        "order_type": order.order_type,
        "time_in_force": order.time_in_force,
        "limit_price": str(order.limit_price) if order.limit_price is not None else None,
        "stop_price": str(order.stop_price) if order.stop_price is not None else None,
        **extra,
    }
    return OutboxMessage(order=order, kind=kind, cl_ord_id=cl_ord_id, payload=payload)


def _outbox(order: Order, kind: str, cl_ord_id: str, **extra) -> OutboxMessage:
    message = _outbox_row(order, kind, cl_ord_id, **extra)
    message.save(force_insert=True)
    return message


def _check_funds(
    account: Account,
    request: OrderRequest,
    security: Security,
    quote,
    released: Decimal = Decimal("0"),
    released_shares: int = 0,
    filled: int = 0,
):
    """(hold, commission) if the account can afford the request. For a replacement,
    `released` and `released_shares` are the old order's hold and unfilled sell shares,
    and `filled` its shares already filled: counted in the new (total) quantity, but a
    sale's are no longer held, so only the rest needs shares."""
    hold, commission = estimated_cost(request, quote)
    if request.side == OrderSide.BUY:
        lmv = long_market_value(account) if account.is_margin else Decimal("0")
        available = ledger.balances(account, long_market_value=lmv).buying_power + released
        if _unfilled_part(hold, request.qty, filled) > available:
            raise _invalid(
                "qty",
                "insufficient_buying_power",
                f"This order needs ${hold:,.2f} (price, buffer and commission); "
                f"your buying power is ${available:,.2f}.",
            )
    else:
        available = shares_available(account, security) + released_shares
        if request.qty - filled > available:
            raise _invalid(
                "qty",
                "insufficient_shares",
                f"You can sell at most {max(available, 0) + filled:,} shares of "
                f"{security.symbol} (short sales are not offered).",
            )
    return hold, commission


def _unfilled_part(hold: Decimal, qty: int, filled: int) -> Decimal:
    """The part of a buy's hold its unfilled shares need (pro rata, as its fills release
    it): a replacement of a partly filled buy holds only for what is left to buy."""
    if not filled:
        return hold
    return (hold * (qty - filled) / qty).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _checked(symbol, side, order_type, time_in_force, qty, limit_price, stop_price):
    """The security, its quote and the checked request of a new order."""
    symbol = (symbol or "").strip().upper()
    security = Security.objects.filter(symbol=symbol).first()
    quote = market_data.get_quote(symbol) if security else None
    request = check_request(
        security,
        symbol=symbol,
        side=side,
        order_type=order_type,
        time_in_force=time_in_force,
        qty=qty,
        limit_price=limit_price,
        stop_price=stop_price,
        last=quote.last if quote else None,
        market_open=market_data.is_market_open(),
    )
    return security, quote, request


@dataclass(frozen=True)
class Preview:
    """What the ticket shows before placing. The estimated price is what the order is
    expected to trade at (the quote's ask for a buy, its bid for a sale, or the order's
    limit or stop); the hold is what a buy sets aside from buying power until it fills,
    with the buffer above the ask for a market order: two figures, not one."""

    request: OrderRequest
    price: Decimal  # estimated price per share
    price_basis: str  # "ask", "bid", "limit" or "stop": where the estimate comes from
    principal: Decimal  # price x shares
    commission: Decimal
    fees: Decimal  # SEC fee and FINRA TAF (sales)
    total: Decimal  # what a buy is estimated to cost / a sale to bring
    hold: Decimal  # set aside from buying power until a buy fills (0 for a sale)
    hold_price: Decimal | None  # per share in the hold (with any buffer); None for a sale
    buying_power: Decimal
    shares_available: int

    @property
    def hold_has_buffer(self) -> bool:
        return self.hold_price is not None and self.hold_price != self.price


def estimated_execution_price(request: OrderRequest, quote) -> tuple[Decimal, str]:
    """The price the order is expected to trade at, and where it comes from: a limit
    order's limit, a stop order's stop (it becomes a market order there), else the side
    of the quote it would take (the ask for a buy, the bid for a sale)."""
    if request.limit_price is not None:
        return request.limit_price, "limit"
    if request.stop_price is not None:
        return request.stop_price, "stop"
    if quote is None:
        raise _invalid("symbol", "no_quote", "No price is available for this symbol now.")
    return (quote.ask, "ask") if request.side == OrderSide.BUY else (quote.bid, "bid")


def preview_order(
    account: Account,
    *,
    symbol,
    side,
    order_type,
    time_in_force,
    qty,
    limit_price=None,
    stop_price=None,
) -> Preview:
    """What the order ticket shows before placing: the same checks as placing, the
    estimated cost or proceeds at the quote, and the hold; nothing is written."""
    security, quote, request = _checked(
        symbol, side, order_type, time_in_force, qty, limit_price, stop_price
    )
    price, basis = estimated_execution_price(request, quote)
    principal = (price * request.qty).quantize(CENT, ROUND_HALF_UP)
    charges = fees.charges(request.side, request.qty, price)
    buying = request.side == OrderSide.BUY
    total = principal + charges.commission if buying else principal - charges.total
    hold, _ = estimated_cost(request, quote)
    lmv = long_market_value(account) if account.is_margin else Decimal("0")
    return Preview(
        request,
        price,
        basis,
        principal,
        charges.commission,
        charges.fees,
        total,
        hold,
        estimated_price(request, quote) if buying else None,
        ledger.balances(account, long_market_value=lmv).buying_power,
        shares_available(account, security),
    )


def _store(
    account: Account,
    security: Security,
    request: OrderRequest,
    client_order_id: str,
    hold: Decimal,
    commission: Decimal,
    user: User | None,
    replaces: Order | None = None,
    hold_now: Decimal | None = None,
    outbox: dict | None = None,
    *,
    routed: bool = True,
    fields: dict | None = None,
) -> Order:
    """The order row, its hold and its outbox row (`outbox`: the kind and payload of
    `_outbox_row`, for the order's own ClOrdID), written by one statement. `hold` is the
    order's whole hold; `hold_now` what is set aside now if less (a replacement whose old
    order was partly filled). `routed=False`: no outbox row (an order the portal holds);
    `fields`: other values of the order (an order class's)."""
    order = Order(
        **{
            "account": account,
            "security": security,
            "client_order_id": client_order_id,
            "request_hash": request.content_hash(),
            "cl_ord_id": new_cl_ord_id(),
            "side": request.side,
            "order_type": request.order_type,
            "time_in_force": request.time_in_force,
            "qty": request.qty,
            "limit_price": request.limit_price,
            "stop_price": request.stop_price,
            "held_amount": hold,
            "estimated_commission": commission,
            "placed_by": user,
            "replaces": replaces,
        }
        | (fields or {})
    )
    hold_now = hold if hold_now is None else hold_now
    outbox = outbox or {"kind": OutboxMessage.Kind.NEW_ORDER}
    message = _outbox_row(order, cl_ord_id=order.cl_ord_id, **outbox) if routed else None
    if connection.vendor == "postgresql":
        rows = [(order, {})]
        if hold_now > 0:
            hold_row = Hold(account=account, amount=hold_now, reason=Hold.Reason.ORDER)
            rows.append((hold_row, {"reference": "'order:' || o.id"}))
        if message is not None:
            rows.append((message, {"order_id": "o.id"}))
        order.pk = _insert_together(rows)
        order._state.adding = False
        order._state.db = connection.alias
    else:  # SQLite has no data-modifying CTEs: one INSERT each
        order.save(force_insert=True)
        if hold_now > 0:
            ledger.place_hold(account, hold_now, Hold.Reason.ORDER, f"order:{order.pk}")
        if message is not None:
            message.order = order
            message.save(force_insert=True)
    # A new order replaced by nothing: the API's answer need not ask.
    Order._meta.get_field("replaced_by").set_cached_value(order, None)
    return order


def _retried_order(account: Account, client_order_id: str, *, symbol, **fields) -> Order | None:
    """The order a retried request made the first time, recognised before the market's
    checks: a retry that arrives after the close, a halt or a move of the price still gets
    the order it made, not an error that reads as if there were none. Any other request
    under a used id is a conflict (409), whatever else is wrong with it."""
    existing = (
        Order.objects.filter(account=account, client_order_id=client_order_id)
        .select_related("security")
        .first()
    )
    if existing is None:
        return None
    errors, qty_value, limit, stop = _field_errors(existing.security, symbol, **fields)
    if errors:  # cannot be the request that made it: that one passed these checks
        raise _client_order_id_conflict()
    request = OrderRequest(
        existing.security.symbol,
        fields["side"],
        fields["order_type"],
        fields["time_in_force"],
        qty_value,
        limit,
        stop,
    )
    if (symbol or "").strip().upper() == existing.security.symbol and (
        existing.request_hash == request.content_hash()
    ):
        return existing
    raise _client_order_id_conflict()


def _client_order_id_conflict() -> ServiceError:
    return _invalid(
        "client_order_id",
        "client_order_id_conflict",
        "This client_order_id was used for a different order.",
        status=409,
    )


def _insert_together(rows: list[tuple[models.Model, dict[str, str]]]) -> int:
    """Insert a row and the rows that refer to it in one statement (a chain of data-
    modifying CTEs), each row's values as `save()` would write them (defaults, auto_now),
    except the columns given as SQL over `o`, the first row as inserted. Returns the
    first row's id. One round trip instead of one per row: the order path is bound by
    the statements it runs (issue 12)."""
    quote = connection.ops.quote_name
    parts, params = [], []
    for obj, computed in rows:
        meta = obj._meta
        columns, values = [], []
        for f in meta.local_concrete_fields:
            if f.primary_key:
                continue
            columns.append(quote(f.column))
            if f.column in computed:
                values.append(computed[f.column])
            else:
                values.append("%s")
                params.append(f.get_db_prep_save(f.pre_save(obj, add=True), connection))
        parts.append(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)}{' FROM o' if parts else ''} RETURNING id"
        )
    sql = f"WITH o AS ({parts[0]})"
    for number, part in enumerate(parts[1:]):
        sql += f", r{number} AS ({part})"
    sql += " SELECT id FROM o"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def check_account_trades(account: Account) -> None:
    """The account may take a new order: it is active and its configuration does not
    suspend trading (409 otherwise)."""
    if account.status != AccountStatus.ACTIVE:
        raise ServiceError(
            "account_not_active",
            f"This account is {account.get_status_display().lower()}.",
            status=409,
        )
    configuration.check_trading_allowed(account)


@transaction.atomic
def place_order(
    account: Account,
    user: User | None,
    *,
    symbol,
    side,
    order_type,
    time_in_force,
    qty,
    limit_price=None,
    stop_price=None,
    client_order_id: str | None = None,
) -> tuple[Order, bool]:
    """Check, hold and store an order with its outbox row; returns (order, created).
    The same client_order_id with the same content returns the first order; with other
    content it is refused (409). The retry is recognised first, under the account's lock
    (two at once: the second finds the first's order), before the market's checks."""
    client_order_id = (client_order_id or "").strip()
    if len(client_order_id) > 128:
        raise _invalid("client_order_id", "max_length", "At most 128 characters.")
    account = ledger.lock_account(account)
    if client_order_id:
        retried = _retried_order(
            account,
            client_order_id,
            symbol=symbol,
            side=side,
            order_type=order_type,
            time_in_force=time_in_force,
            qty=qty,
            limit_price=limit_price,
            stop_price=stop_price,
        )
        if retried is not None:
            return retried, False
    else:
        client_order_id = secrets.token_hex(16)
    security, quote, request = _checked(
        symbol, side, order_type, time_in_force, qty, limit_price, stop_price
    )
    check_account_trades(account)

    hold, commission = _check_funds(account, request, security, quote)
    order = _store(account, security, request, client_order_id, hold, commission, user)
    events.record(events.change(order, "pending_new"))
    return order, True


def _locked_open_order(order: Order) -> Order:
    ledger.lock_account(order.account)
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("security", "account", "replaces")
        .get(pk=order.pk)
    )
    if order.status not in (
        OrderStatus.HELD,
        OrderStatus.PENDING_NEW,
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
    ):
        raise ServiceError(
            "order_not_open",
            f"This order is {order.get_status_display().lower()}: it cannot be changed.",
            status=409,
        )
    return order


@transaction.atomic
def cancel_order(order: Order, user: User | None) -> Order:
    """Ask the routing engine to cancel; the order is `pending_cancel` until it answers
    (canceled, or an OrderCancelReject leaves it as it was)."""
    order = _locked_open_order(order)
    if order.held_by_portal:  # never routed: nothing to ask the engine
        from trading.orders import classes

        events.record(classes.cancel_held(order))
        classes.after_change(order, False, _relock)
        return order
    request_cancel(order, user)
    events.record(events.change(order, "pending_cancel"))
    return order


def _relock(order: Order, account: bool = True) -> Order:
    if account:
        ledger.lock_account(order.account_id)
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("security", "account", "replaces")
        .get(pk=order.pk)
    )


def request_cancel(order: Order, user: User | None) -> None:
    """The cancel request's outbox row, the order `pending_cancel` (the caller holds the
    account's and the order's locks and writes the trade update)."""
    _outbox(
        order,
        OutboxMessage.Kind.CANCEL,
        new_cl_ord_id(),
        orig_cl_ord_id=order.cl_ord_id,
        previous_status=order.status,
        requested_by=user.pk if user else None,
    )
    order.status = OrderStatus.PENDING_CANCEL
    order.save(update_fields=["status", "updated_at"])


def release_hold(order: Order) -> None:
    """An order the portal ends itself releases what it held."""
    if order.side == OrderSide.BUY and order.held_amount > 0:
        ledger.adjust_hold(order.account, f"order:{order.pk}", Decimal("0"))


@transaction.atomic
def replace_order(
    order: Order,
    user: User | None,
    *,
    qty=None,
    limit_price=None,
    stop_price=None,
    time_in_force=None,
    client_order_id: str | None = None,
) -> Order:
    """Cancel/replace: a new order (replacing the old) with its own hold, sent as one
    OrderCancelReplaceRequest; the old order is `pending_replace` until the engine
    answers. Buying power counts what the old order still holds as freed."""
    order = _locked_open_order(order)
    configuration.check_trading_allowed(order.account)
    if order.held_by_portal:
        from trading.orders import classes

        return classes.replace_held(
            order,
            qty=qty,
            limit_price=limit_price,
            stop_price=stop_price,
            time_in_force=time_in_force,
        )
    if order.order_type == OrderType.TRAILING_STOP:
        raise ServiceError(
            "order_not_replaceable",
            "This trailing stop has been triggered: it is a market order now.",
            status=409,
        )
    security = order.security
    quote = market_data.get_quote(security.symbol)
    request = check_request(
        security,
        symbol=security.symbol,
        side=order.side,
        order_type=order.order_type,
        time_in_force=time_in_force or order.time_in_force,
        qty=qty if qty not in (None, "") else order.qty,
        limit_price=limit_price if limit_price not in (None, "") else order.limit_price,
        stop_price=stop_price if stop_price not in (None, "") else order.stop_price,
        last=quote.last if quote else None,
        market_open=market_data.is_market_open(),
    )
    if request.qty <= order.filled_qty:
        raise _invalid(
            "qty",
            "qty_below_filled",
            f"{order.filled_qty} shares are already filled: the new quantity must be more.",
        )
    account = order.account
    unfilled_old = order.qty - order.filled_qty if order.side == OrderSide.SELL else 0
    # What the old order still holds: its fills have already used part of its hold.
    still_held = Hold.objects.filter(
        account=account, reference=f"order:{order.pk}", released_at__isnull=True
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    hold, commission = _check_funds(
        account,
        request,
        security,
        quote,
        released=still_held,
        released_shares=unfilled_old,
        filled=order.filled_qty,
    )
    client_order_id = (client_order_id or "").strip() or secrets.token_hex(16)
    if Order.objects.filter(account=account, client_order_id=client_order_id).exists():
        raise _invalid(
            "client_order_id",
            "client_order_id_conflict",
            "This client_order_id is already used.",
            status=409,
        )
    new = _store(
        account,
        security,
        request,
        client_order_id,
        hold,
        commission,
        user,
        replaces=order,
        hold_now=_unfilled_part(hold, request.qty, order.filled_qty),
        fields={
            "order_class": order.order_class,
            "group": order.group,
            "leg": order.leg,
            "parent_id": order.parent_id,
        },
        outbox={
            "kind": OutboxMessage.Kind.REPLACE,
            "orig_cl_ord_id": order.cl_ord_id,
            "previous_status": order.status,
        },
    )
    order.status = OrderStatus.PENDING_REPLACE
    order.save(update_fields=["status", "updated_at"])
    events.record(events.change(order, "pending_replace"), events.change(new, "pending_new"))
    return new
