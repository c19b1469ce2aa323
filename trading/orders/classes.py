"""Order classes the portal manages: Alpaca's bracket, oco and oto, and trailing stops
(see docs/order-lifecycle.md, "Order classes and trailing stops").

The routing engine only ever sees plain orders. The portal holds what is conditional:

- a bracket or oto's exit legs are orders in status `held` (no outbox row) until the
  entry is completely filled; then, in the transaction that applies that fill, they
  become `pending_new` with their outbox rows (routed exactly once: the fill is applied
  once);
- an exit's first fill, or any order of the group ending canceled, expired or rejected,
  cancels the group's other open orders (a held one at once, a routed one with one
  cancel request), in the transaction that applies it;
- a trailing stop is an order in status `new` that the portal follows from the market
  (`follow_trailing_stops`, a Celery beat task): its high-water mark and stop price move
  under the row lock, and once the price crosses the stop it is routed as a market order.

Buying power and shares follow Alpaca: a bracket or oto buy holds its entry's cost (the
exits are sales and hold no cash); the exit pair of a bracket or an oco holds its shares
once (`entry.promised_shares`); a buy trailing stop holds like a stop order at its
current stop price.
"""

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from accounts.money import ledger
from accounts.opening.models import Account
from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError
from trading.market import market_data
from trading.market.models import Security
from trading.orders import entry, events
from trading.orders.models import (
    Order,
    OrderClass,
    OrderLeg,
    OrderSide,
    OrderStatus,
    OrderType,
    OutboxMessage,
    TimeInForce,
)

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
ENDED = (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED)
WORKING = (OrderStatus.PENDING_NEW, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


def _invalid(field: str, code: str, message: str) -> ServiceError:
    return ServiceError(code, message, {field: FieldError(code, message)})


@dataclass(frozen=True)
class Exit:
    """A take-profit (a limit) or stop-loss (a stop, or stop-limit with a limit price)."""

    limit_price: str | None = None
    stop_price: str | None = None


def _hash(request: entry.OrderRequest, **extra) -> str:
    """The request's content hash, with the class's own fields: a retry with other legs
    or another trail is a different order."""
    data = {"base": request.content_hash()} | {
        k: str(v) if v is not None else None for k, v in extra.items()
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _retry(account: Account, client_order_id: str, request_hash: str) -> Order | None:
    existing = Order.objects.filter(account=account, client_order_id=client_order_id).first()
    if existing is None:
        return None
    if existing.request_hash == request_hash:
        return existing
    raise entry._client_order_id_conflict()


def _exit_request(security, side, time_in_force, qty, leg: str, exit: Exit, quote):
    """The checked request of an exit leg: a take-profit is a limit order, a stop-loss a
    stop (or stop-limit) order, on the entry's time in force."""
    if leg == OrderLeg.TAKE_PROFIT:
        order_type, limit, stop = OrderType.LIMIT, exit.limit_price, None
        if exit.limit_price in (None, ""):
            raise _invalid("take_profit", "required", "take_profit.limit_price is required.")
    else:
        if exit.stop_price in (None, ""):
            raise _invalid("stop_loss", "required", "stop_loss.stop_price is required.")
        limit, stop = exit.limit_price, exit.stop_price
        order_type = OrderType.STOP_LIMIT if limit not in (None, "") else OrderType.STOP
    try:
        return entry.check_request(
            security,
            symbol=security.symbol,
            side=side,
            order_type=order_type,
            time_in_force=time_in_force,
            qty=qty,
            limit_price=limit,
            stop_price=stop,
            last=quote.last if quote else None,
            market_open=True,
        )
    except ServiceError as exc:
        raise ServiceError(
            exc.code,
            f"{leg}: {exc.message}",
            {f"{leg}.{name}": f for name, f in exc.fields.items()},
            status=exc.status,
        ) from exc


def _check_exit_prices(
    side: str, base: Decimal | None, take_profit: Decimal | None, stop_loss: Decimal | None
) -> None:
    """Alpaca's rules for exits that sell (the only ones: no short sales): the
    take-profit's limit above the stop-loss's stop; the stop at least $0.01 below the
    base price (the entry's limit, the take-profit's limit for an oco, and the market
    price)."""
    selling = side == OrderSide.SELL
    crossed = selling and take_profit is not None and stop_loss is not None
    if crossed and take_profit <= stop_loss:
        raise _invalid(
            "take_profit",
            "take_profit_below_stop_loss",
            "take_profit.limit_price must be higher than stop_loss.stop_price.",
        )
    if selling and stop_loss is not None and base is not None and stop_loss > base - CENT:
        raise _invalid(
            "stop_loss",
            "stop_loss_past_base_price",
            f"stop_loss.stop_price must be at least $0.01 below the base price ${base:,.2f}.",
        )


def _new_leg(
    parent: Order, request: entry.OrderRequest, leg: str, status: str, user: User | None
) -> Order:
    return Order(
        account=parent.account,
        security=parent.security,
        client_order_id=secrets.token_hex(16),
        request_hash=request.content_hash(),
        cl_ord_id=entry.new_cl_ord_id(),
        side=request.side,
        order_type=request.order_type,
        time_in_force=request.time_in_force,
        qty=request.qty,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        status=status,
        placed_by=user,
        order_class=parent.order_class,
        group=parent.group,
        leg=leg,
        parent=parent,
    )


@transaction.atomic
def place_order_class(
    account: Account,
    user: User | None,
    *,
    order_class: str,
    symbol,
    side,
    order_type,
    time_in_force,
    qty,
    limit_price=None,
    stop_price=None,
    take_profit: Exit | None = None,
    stop_loss: Exit | None = None,
    client_order_id: str | None = None,
) -> tuple[Order, bool]:
    """A bracket (entry + take-profit + stop-loss), oto (entry + one exit) or oco (a
    take-profit and a stop-loss selling a position held). Returns (parent, created):
    the entry, or the oco's take-profit; its legs are `parent.legs`."""
    client_order_id = (client_order_id or "").strip()
    if len(client_order_id) > 128:
        raise _invalid("client_order_id", "max_length", "At most 128 characters.")
    if order_class not in (OrderClass.BRACKET, OrderClass.OTO, OrderClass.OCO):
        raise _invalid("order_class", "invalid_choice", "Choose simple, bracket, oco or oto.")
    if time_in_force not in (TimeInForce.DAY, TimeInForce.GTC):
        raise _invalid(
            "time_in_force",
            "invalid_time_in_force",
            f"{order_class} orders are day or gtc orders.",
        )
    if order_class == OrderClass.OCO:
        if order_type != OrderType.LIMIT:
            raise _invalid("type", "invalid_order_type", "An oco order's type must be limit.")
        if side != OrderSide.SELL:
            raise _invalid(
                "side",
                "short_sale",
                "An oco order sells a position held (short sales are not offered).",
            )
        take_profit = take_profit or Exit(limit_price=limit_price)
        if (
            limit_price not in (None, "")
            and take_profit.limit_price not in (None, "")
            and _decimal(limit_price) != _decimal(take_profit.limit_price)
        ):
            raise _invalid(
                "limit_price",
                "limit_price_mismatch",
                "limit_price and take_profit.limit_price differ.",
            )
        limit_price = take_profit.limit_price
        if take_profit.limit_price in (None, "") or stop_loss is None:
            raise _invalid("stop_loss", "required", "An oco order needs take_profit and stop_loss.")
    else:
        if order_type not in (OrderType.MARKET, OrderType.LIMIT):
            raise _invalid(
                "type",
                "invalid_order_type",
                f"A {order_class} order's entry must be a market or limit order.",
            )
        if side != OrderSide.BUY:
            raise _invalid(
                "side",
                "short_sale",
                f"A {order_class} order buys (short sales are not offered).",
            )
        if order_class == OrderClass.BRACKET and (take_profit is None or stop_loss is None):
            raise _invalid(
                "take_profit",
                "required",
                "A bracket order needs take_profit.limit_price and stop_loss.stop_price.",
            )
        if order_class == OrderClass.OTO and (take_profit is None) == (stop_loss is None):
            raise _invalid(
                "take_profit", "required", "An oto order needs take_profit or stop_loss, not both."
            )
    account = ledger.lock_account(account)
    security, quote, request = entry._checked(
        symbol, side, order_type, time_in_force, qty, limit_price, stop_price
    )
    exit_side = OrderSide.SELL
    exits: dict[str, entry.OrderRequest] = {}
    if take_profit is not None:
        exits[OrderLeg.TAKE_PROFIT] = _exit_request(
            security,
            exit_side,
            time_in_force,
            request.qty,
            OrderLeg.TAKE_PROFIT,
            take_profit,
            quote,
        )
    if stop_loss is not None:
        exits[OrderLeg.STOP_LOSS] = _exit_request(
            security, exit_side, time_in_force, request.qty, OrderLeg.STOP_LOSS, stop_loss, quote
        )
    tp = exits.get(OrderLeg.TAKE_PROFIT)
    sl = exits.get(OrderLeg.STOP_LOSS)
    bases = [p for p in (request.limit_price, quote.last if quote else None) if p is not None]
    for base in bases or [None]:
        _check_exit_prices(
            exit_side, base, tp.limit_price if tp else None, sl.stop_price if sl else None
        )
    if (
        order_class != OrderClass.OCO
        and tp is not None
        and request.limit_price is not None
        and tp.limit_price <= request.limit_price
    ):
        raise _invalid(
            "take_profit",
            "take_profit_below_entry",
            "take_profit.limit_price must be higher than the entry's limit_price.",
        )
    request_hash = _hash(
        request,
        order_class=order_class,
        tp=tp.limit_price if tp else None,
        sl_stop=sl.stop_price if sl else None,
        sl_limit=sl.limit_price if sl else None,
    )
    if client_order_id:
        retried = _retry(account, client_order_id, request_hash)
        if retried is not None:
            return retried, False
    else:
        client_order_id = secrets.token_hex(16)
    entry.check_account_trades(account)
    hold, commission = entry._check_funds(account, request, security, quote)
    group = Order._meta.get_field("uuid").default()
    leg = OrderLeg.TAKE_PROFIT if order_class == OrderClass.OCO else OrderLeg.ENTRY
    parent = entry._store(
        account,
        security,
        request,
        client_order_id,
        hold,
        commission,
        user,
        fields={
            "request_hash": request_hash,
            "order_class": order_class,
            "group": group,
            "leg": leg,
        },
    )
    changes = [events.change(parent, "pending_new")]
    if order_class == OrderClass.OCO:
        stop_leg = _new_leg(parent, sl, OrderLeg.STOP_LOSS, OrderStatus.PENDING_NEW, user)
        stop_leg.save(force_insert=True)
        entry._outbox(stop_leg, OutboxMessage.Kind.NEW_ORDER, stop_leg.cl_ord_id)
        changes.append(events.change(stop_leg, "pending_new"))
    else:
        for name, exit_request in exits.items():
            _new_leg(parent, exit_request, name, OrderStatus.HELD, user).save(force_insert=True)
    events.record(*changes)
    return parent, True


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


# --- trailing stops ---------------------------------------------------------------


def trail_stop_price(side: str, hwm: Decimal, trail_price, trail_percent) -> Decimal:
    """hwm - trail for a sell, hwm + trail for a buy (hwm: the lowest price for a buy),
    on the cent ($0.0001 under $1)."""
    trail = trail_price if trail_price is not None else hwm * trail_percent / 100
    stop = hwm - trail if side == OrderSide.SELL else hwm + trail
    step = CENT if stop >= 1 else entry.SUB_PENNY
    return max(stop, entry.SUB_PENNY).quantize(step, ROUND_HALF_UP)


def _parse_trail(trail_price, trail_percent) -> tuple[Decimal | None, Decimal | None]:
    given = [v for v in (trail_price, trail_percent) if v not in (None, "")]
    if len(given) != 1:
        raise _invalid(
            "trail_price",
            "trail_required",
            "A trailing_stop order needs trail_price or trail_percent (one of them).",
        )
    if trail_price not in (None, ""):
        price = entry.parse_price("trail_price", trail_price)
        if price % CENT:
            raise _invalid("trail_price", "price_off_tick", "trail_price is in steps of $0.01.")
        return price, None
    percent = _decimal(trail_percent)
    if percent is None or not percent.is_finite() or not 0 < percent < 100:
        raise _invalid(
            "trail_percent", "invalid_trail", "trail_percent must be more than 0 and under 100."
        )
    if percent != percent.quantize(Decimal("0.001")):
        raise _invalid("trail_percent", "invalid_trail", "trail_percent has at most 3 decimals.")
    return None, percent


@transaction.atomic
def place_trailing_stop(
    account: Account,
    user: User | None,
    *,
    symbol,
    side,
    time_in_force,
    qty,
    trail_price=None,
    trail_percent=None,
    client_order_id: str | None = None,
) -> tuple[Order, bool]:
    """A trailing stop: accepted as `new` and held by the portal, its high-water mark
    starting at the last price; routed as a market order once triggered."""
    client_order_id = (client_order_id or "").strip()
    if len(client_order_id) > 128:
        raise _invalid("client_order_id", "max_length", "At most 128 characters.")
    if time_in_force not in (TimeInForce.DAY, TimeInForce.GTC):
        raise _invalid(
            "time_in_force", "invalid_time_in_force", "Trailing stop orders are day or gtc orders."
        )
    trail, percent = _parse_trail(trail_price, trail_percent)
    account = ledger.lock_account(account)
    symbol = (symbol or "").strip().upper()
    security = Security.objects.filter(symbol=symbol).first()
    errors, qty_value, _, _ = entry._field_errors(
        security, symbol, side, OrderType.STOP, time_in_force, qty, None, None
    )
    errors.pop("stop_price", None)
    if errors:
        raise ServiceError("invalid", f"Please correct these fields: {', '.join(errors)}.", errors)
    entry._check_tradable(security, OrderType.STOP, time_in_force, True)
    quote = market_data.get_quote(symbol)
    if quote is None:
        raise _invalid("symbol", "no_quote", "No price is available for this symbol now.")
    stop = trail_stop_price(side, quote.last, trail, percent)
    request = entry.OrderRequest(symbol, side, OrderType.STOP, time_in_force, qty_value, None, stop)
    request_hash = _hash(
        entry.OrderRequest(
            symbol, side, OrderType.TRAILING_STOP, time_in_force, qty_value, None, None
        ),
        trail_price=trail,
        trail_percent=percent,
    )
    if client_order_id:
        retried = _retry(account, client_order_id, request_hash)
        if retried is not None:
            return retried, False
    else:
        client_order_id = secrets.token_hex(16)
    entry.check_account_trades(account)
    hold, commission = entry._check_funds(account, request, security, quote)
    order = entry._store(
        account,
        security,
        request,
        client_order_id,
        hold,
        commission,
        user,
        routed=False,
        fields={
            "request_hash": request_hash,
            "order_type": OrderType.TRAILING_STOP,
            "status": OrderStatus.NEW,
            "trail_price": trail,
            "trail_percent": percent,
            "hwm": quote.last,
        },
    )
    events.record(events.change(order, "new"))
    return order, True


def follow_trailing_stops() -> int:
    """Move the trailing stops' high-water marks with the market and route those whose
    stop the price has crossed, as market orders; while the market is closed, expire the
    day ones a close has passed since. Each order in a transaction of its own, under its
    account's and its own row lock: a stop is routed once, whoever runs this at the same
    time. Returns how many were triggered or expired."""
    rows = list(
        Order.objects.filter(
            order_type=OrderType.TRAILING_STOP,
            triggered_at__isnull=True,
            status=OrderStatus.NEW,
        ).values_list("id", "account_id", "security__symbol")
    )
    if not rows:
        return 0
    if not market_data.is_market_open():
        return _expire_day_trailing_stops(rows)
    quotes = market_data.get_quotes(sorted({symbol for _, _, symbol in rows}))
    done = 0
    for order_id, account_id, symbol in rows:
        quote = quotes.get(symbol)
        if quote is not None and quote.last:
            done += _follow(order_id, account_id, quote.last)
    return done


def _locked_trailing(order_id: int, account_id: int) -> Order | None:
    ledger.lock_account(account_id)
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("security", "account")
        .get(pk=order_id)
    )
    if order.triggered_at is not None or order.status != OrderStatus.NEW:
        return None
    return order


@transaction.atomic
def _follow(order_id: int, account_id: int, last: Decimal) -> int:
    order = _locked_trailing(order_id, account_id)
    if order is None:
        return 0
    selling = order.side == OrderSide.SELL
    hwm = max(order.hwm or last, last) if selling else min(order.hwm or last, last)
    stop = trail_stop_price(order.side, hwm, order.trail_price, order.trail_percent)
    crossed = last <= stop if selling else last >= stop
    changed = hwm != order.hwm or stop != order.stop_price
    order.hwm, order.stop_price = hwm, stop
    if not crossed:
        if changed:
            order.save(update_fields=["hwm", "stop_price", "updated_at"])
        return 0
    order.triggered_at = timezone.now()
    order.status = OrderStatus.PENDING_NEW
    order.save(update_fields=["hwm", "stop_price", "triggered_at", "status", "updated_at"])
    entry._outbox(
        order,
        OutboxMessage.Kind.NEW_ORDER,
        order.cl_ord_id,
        order_type=OrderType.MARKET,
        limit_price=None,
        stop_price=None,
        triggered_by=str(last),
    )
    events.record(events.change(order, "pending_new"))
    log.info(
        "Trailing stop %s (ClOrdID %s) triggered at %s (stop %s, hwm %s): routed as a market order",
        order.pk,
        order.cl_ord_id,
        last,
        stop,
        hwm,
    )
    return 1


def _expire_day_trailing_stops(rows) -> int:
    done = 0
    last_close = market_data.previous_close_time()
    for order_id, account_id, _ in rows:
        with transaction.atomic():
            order = _locked_trailing(order_id, account_id)
            if (
                order is None
                or order.time_in_force != TimeInForce.DAY
                or order.created_at >= last_close
            ):
                continue
            order.status = OrderStatus.EXPIRED
            order.save(update_fields=["status", "updated_at"])
            entry.release_hold(order)
            events.record(events.change(order, "expired"))
            done += 1
    return done


def update_trailing_stop(order: Order, trail) -> Order:
    """PATCH with `trail`: the trail of a trailing stop not yet triggered, in its own
    kind (price or percent); the stop price follows from the high-water mark."""
    if order.trail_price is not None:
        trail_price, trail_percent = _parse_trail(trail, None)
    else:
        trail_price, trail_percent = _parse_trail(None, trail)
    order.trail_price, order.trail_percent = trail_price, trail_percent
    order.stop_price = trail_stop_price(order.side, order.hwm, trail_price, trail_percent)
    order.save(update_fields=["trail_price", "trail_percent", "stop_price", "updated_at"])
    return order


# --- the group's rules, applied where the engine's answers are applied --------------


def cancel_held(order: Order, reason: str = "") -> dict:
    """Cancel an order the portal holds (a held leg, an untriggered trailing stop): no
    message to the engine. Returns its trade update (not yet written)."""
    order.status = OrderStatus.CANCELED
    order.canceled_at = timezone.now()
    if reason:
        order.notice = reason[:300]
    order.save(update_fields=["status", "canceled_at", "notice", "updated_at"])
    entry.release_hold(order)
    return events.change(order, "canceled")


def after_change(order: Order, filled: bool, lock) -> None:
    """The group's rules after a change of one of its orders (in the transaction that
    applied it, the account locked): the entry completely filled routes its held exits;
    an exit's fill, or any order ending canceled, expired or rejected (a refused
    replacement excepted) while no exit has filled, cancels the group's other open
    orders. `lock` locks an order
    as the applier does (its batch's copy when it has one)."""
    if order.group is None:
        return
    if order.leg == OrderLeg.ENTRY and order.status == OrderStatus.FILLED:
        _route_exits(order, lock)
    elif (order.leg != OrderLeg.ENTRY and filled) or (
        order.status in ENDED
        and not (order.status == OrderStatus.REJECTED and order.replaces_id)
        and not _an_exit_filled(order)
    ):
        _cancel_others(order, lock)


def _an_exit_filled(order: Order) -> bool:
    """Once an exit has filled, the group is decided: that fill canceled the others, and
    the end of one of those (or of the exit itself) cancels nothing more."""
    if order.leg != OrderLeg.ENTRY and order.filled_qty:
        return True
    return (
        _group(order)
        .filter(leg__in=(OrderLeg.TAKE_PROFIT, OrderLeg.STOP_LOSS), filled_qty__gt=0)
        .exists()
    )


def _group(order: Order):
    return (
        Order.objects.filter(group=order.group, replaced_by__isnull=True)
        .exclude(pk=order.pk)
        .order_by("pk")
    )


def _route_exits(entry_order: Order, lock) -> None:
    held = [lock(o, account=False) for o in _group(entry_order).filter(status=OrderStatus.HELD)]
    held = [o for o in held if o.status == OrderStatus.HELD]
    if not held:
        return
    changes = []
    # The held exits promise the entry's shares already: what is left must not be negative.
    available = entry.shares_available(entry_order.account, entry_order.security)
    if available < 0:
        for leg in held:
            leg.status = OrderStatus.REJECTED
            leg.reject_reason = (
                f"Not routed: {leg.qty} shares of {leg.security.symbol} are no longer "
                f"available for this exit ({available} short)."
            )[:300]
            leg.save(update_fields=["status", "reject_reason", "updated_at"])
            changes.append(events.change(leg, "rejected"))
            log.warning(
                "Exit leg %s (%s) of order %s not routed: %s",
                leg.pk,
                leg.leg,
                entry_order.pk,
                leg.reject_reason,
            )
    else:
        for leg in held:
            leg.status = OrderStatus.PENDING_NEW
            leg.save(update_fields=["status", "updated_at"])
            entry._outbox(leg, OutboxMessage.Kind.NEW_ORDER, leg.cl_ord_id)
            changes.append(events.change(leg, "pending_new"))
    events.record(*changes)


def _cancel_others(order: Order, lock) -> None:
    changes = []
    for other in _group(order):
        if other.status not in (OrderStatus.HELD, *WORKING):
            continue
        other = lock(other, account=False)
        if other.status == OrderStatus.HELD:
            changes.append(
                cancel_held(other, f"Canceled with order {order.uuid} ({order.status}).")
            )
        elif other.status in WORKING:
            entry.request_cancel(other, None)
            changes.append(events.change(other, "pending_cancel"))
    if changes:
        events.record(*changes)


def replace_held(order: Order, *, qty=None, limit_price=None, stop_price=None, time_in_force=None):
    """Replace an order the portal holds (the caller holds the locks). A held leg's
    prices change in place (it is the same order, not yet routed); its quantity and time
    in force are its entry's. A trailing stop not yet triggered changes only its trail
    (`replace_trail`)."""
    if order.order_type == OrderType.TRAILING_STOP:
        raise _invalid(
            "trail", "trail_required", "A trailing stop not yet triggered changes only its trail."
        )
    if (qty not in (None, "") and str(qty) != str(order.qty)) or (
        time_in_force not in (None, "") and time_in_force != order.time_in_force
    ):
        raise _invalid(
            "qty",
            "leg_terms_fixed",
            "A held leg's qty and time_in_force are its entry's: only its prices change.",
        )
    quote = market_data.get_quote(order.security.symbol)
    request = entry.check_request(
        order.security,
        symbol=order.security.symbol,
        side=order.side,
        order_type=order.order_type,
        time_in_force=order.time_in_force,
        qty=order.qty,
        limit_price=limit_price if limit_price not in (None, "") else order.limit_price,
        stop_price=stop_price if stop_price not in (None, "") else order.stop_price,
        last=quote.last if quote else None,
        market_open=True,
    )
    prices = {order.leg: request}
    for other in _group(order).filter(leg__in=(OrderLeg.TAKE_PROFIT, OrderLeg.STOP_LOSS)):
        prices.setdefault(other.leg, other)
    tp, sl = prices.get(OrderLeg.TAKE_PROFIT), prices.get(OrderLeg.STOP_LOSS)
    _check_exit_prices(
        order.side,
        None,
        tp.limit_price if tp is not None else None,
        sl.stop_price if sl is not None else None,
    )
    order.limit_price, order.stop_price = request.limit_price, request.stop_price
    order.request_hash = request.content_hash()
    order.save(update_fields=["limit_price", "stop_price", "request_hash", "updated_at"])
    return order


@transaction.atomic
def replace_trail(order: Order, trail) -> Order:
    """PATCH with `trail` (Alpaca): a trailing stop not yet triggered."""
    order = entry._locked_open_order(order)
    if order.order_type != OrderType.TRAILING_STOP or order.triggered_at is not None:
        raise ServiceError(
            "order_not_replaceable",
            "trail changes only a trailing stop not yet triggered.",
            status=409,
        )
    return update_trailing_stop(order, trail)
