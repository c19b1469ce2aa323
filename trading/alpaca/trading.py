"""Orders through the trading API: Alpaca's request fields mapped onto
`trading.orders.entry` (the same checks, holds and outbox as the web ticket), and orders
written as Alpaca writes them."""

import contextlib
import logging
import time
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Prefetch

from accounts.opening.models import Account
from accounts.users.models import User
from rushtrade.errors import ServiceError
from trading.alpaca import errors, portfolio
from trading.alpaca.formats import parse_uuid, text
from trading.orders import classes, entry
from trading.orders.models import OPEN_STATUSES, Order, OrderClass, OrderStatus, OrderType

log = logging.getLogger(__name__)

MAX_CLIENT_ORDER_ID = 128
DEFAULT_LIMIT, MAX_LIMIT = 50, 500
CANCELABLE = (
    OrderStatus.HELD,
    OrderStatus.PENDING_NEW,
    OrderStatus.NEW,
    OrderStatus.PARTIALLY_FILLED,
)
ORDER_CLASSES = ("simple", "bracket", "oco", "oto")


def order_dict(order: Order, nested: bool = False) -> dict:
    """An order as Alpaca's Order object (`replaces`/`replaced_by` need those relations
    selected). With `nested`, a parent's legs (those not replaced) under `legs`."""
    replaced_by = getattr(order, "replaced_by", None)
    done_at = order.updated_at
    legs = None
    if nested and order.order_class != OrderClass.SIMPLE and order.parent_id is None:
        legs = [order_dict(leg) for leg in _legs(order)]
    return {
        "id": str(order.uuid),
        "client_order_id": order.client_order_id,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "submitted_at": order.submitted_at or order.created_at,
        "filled_at": order.filled_at,
        "expired_at": done_at if order.status == OrderStatus.EXPIRED else None,
        "expires_at": None,
        "canceled_at": order.canceled_at,
        "failed_at": done_at if order.status == OrderStatus.REJECTED else None,
        "replaced_at": done_at if order.status == OrderStatus.REPLACED else None,
        "replaced_by": str(replaced_by.uuid) if replaced_by else None,
        "replaces": str(order.replaces.uuid) if order.replaces_id else None,
        "asset_id": str(order.security.uuid),
        "symbol": order.security.symbol,
        "asset_class": "us_equity",
        "notional": None,
        "qty": text(order.qty),
        "filled_qty": text(order.filled_qty),
        "filled_avg_price": text(order.filled_avg_price),
        "order_class": order.order_class,
        "order_type": order.order_type,
        "type": order.order_type,
        "side": order.side,
        "position_intent": "buy_to_open" if order.side == "buy" else "sell_to_close",
        "time_in_force": order.time_in_force,
        "limit_price": text(order.limit_price),
        "stop_price": text(order.stop_price),
        "status": order.status,
        "extended_hours": False,
        "legs": legs,
        "trail_percent": text(order.trail_percent),
        "trail_price": text(order.trail_price),
        "hwm": text(order.hwm),
        "reject_reason": order.reject_reason or None,
    }


def _legs(order: Order) -> list[Order]:
    prefetched = getattr(order, "current_legs", None)
    if prefetched is not None:
        return prefetched
    return list(
        Order.objects.filter(parent=order, replaced_by__isnull=True)
        .select_related("security", "replaces")
        .order_by("id")
    )


def _orders(account: Account):
    return Order.objects.filter(account=account).select_related(
        "security", "replaces", "replaced_by"
    )


def get_order(account: Account, order_id: str) -> Order:
    order_uuid = parse_uuid(order_id)
    order = _orders(account).filter(uuid=order_uuid).first() if order_uuid else None
    if order is None:
        raise errors.not_found("order not found")
    return order


def get_order_by_client_order_id(account: Account, client_order_id: str | None) -> Order:
    if not client_order_id:
        raise errors.invalid("client_order_id is required")
    order = _orders(account).filter(client_order_id=client_order_id).first()
    if order is None:
        raise errors.not_found("order not found")
    return order


def _unsupported(data: dict) -> str | None:
    if data.get("notional") not in (None, ""):
        return "notional orders are not offered: give qty in whole shares"
    if data.get("order_class") not in (None, "", *ORDER_CLASSES):
        return f"order_class {data['order_class']} is not offered: simple, bracket, oco or oto"
    if data.get("extended_hours") in (True, "true", "True"):
        return "extended hours trading is not offered"
    if data.get("time_in_force") in ("opg", "cls"):
        return f"time_in_force {data['time_in_force']} is not offered: use day, gtc, ioc or fok"
    if data.get("position_intent") in ("buy_to_close", "sell_to_open"):
        return "short sales are not offered"
    if data.get("legs"):
        return "multi-leg (mleg) orders are not offered"
    return None


def _exit(data: dict, name: str, *fields: str) -> classes.Exit | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        raise errors.invalid(f"{name} must be an object")
    prices = {f: _price(value, f) for f in ("limit_price", "stop_price")}
    for field, price in prices.items():
        if price is not None and field not in fields:
            raise errors.invalid(f"{name}.{field} is not allowed")
    return classes.Exit(**prices)


def _check_class_fields(data: dict, order_class: str) -> None:
    if data["type"] == "trailing_stop":
        if order_class != "simple":
            raise errors.invalid("trailing_stop orders are simple orders: no order_class")
        for name in ("limit_price", "stop_price"):
            if data.get(name) not in (None, ""):
                raise errors.invalid(f"a trailing_stop order has no {name}: give trail_price")
    elif data.get("trail_price") not in (None, "") or data.get("trail_percent") not in (None, ""):
        raise errors.invalid("trail_price and trail_percent are for trailing_stop orders")
    if order_class == "simple" and (data.get("take_profit") or data.get("stop_loss")):
        raise errors.invalid("take_profit and stop_loss need order_class bracket, oco or oto")


def _price(data: dict, name: str):
    value = data.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise errors.invalid(f"{name} must be a number")
    return str(value)


def _qty(data: dict):
    value = data.get("qty")
    if value in (None, ""):
        raise errors.invalid("qty is required")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise errors.invalid("qty must be a number")
    try:
        Decimal(str(value))
    except InvalidOperation:
        raise errors.invalid("qty must be a number") from None
    return str(value)


def submit_order(account: Account, user: User | None, data: dict) -> tuple[Order, bool]:
    """POST /v2/orders. The same client_order_id with the same content returns the first
    order (a retry); with other content it is refused."""
    if not isinstance(data, dict):
        raise errors.AlpacaError(400, errors.MALFORMED, "request body format is invalid")
    problem = _unsupported(data)
    if problem:
        raise errors.AlpacaError(422, errors.UNPROCESSABLE, problem)
    for name in ("symbol", "side", "type", "time_in_force"):
        if not isinstance(data.get(name), str) or not data.get(name):
            raise errors.invalid(f"{name} is required")
    client_order_id = data.get("client_order_id")
    if client_order_id is not None and (
        not isinstance(client_order_id, str) or len(client_order_id) > MAX_CLIENT_ORDER_ID
    ):
        raise errors.invalid(f"client_order_id must be at most {MAX_CLIENT_ORDER_ID} characters")
    order_class = data.get("order_class") or "simple"
    _check_class_fields(data, order_class)
    common = {
        "symbol": data["symbol"],
        "side": data["side"],
        "time_in_force": data["time_in_force"],
        "qty": _qty(data),
        "client_order_id": client_order_id,
    }
    try:
        if data["type"] == "trailing_stop":
            order, created = classes.place_trailing_stop(
                account,
                user,
                **common,
                trail_price=_price(data, "trail_price"),
                trail_percent=_price(data, "trail_percent"),
            )
        elif order_class != "simple":
            order, created = classes.place_order_class(
                account,
                user,
                **common,
                order_class=order_class,
                order_type=data["type"],
                limit_price=_price(data, "limit_price"),
                stop_price=_price(data, "stop_price"),
                take_profit=_exit(data, "take_profit", "limit_price"),
                stop_loss=_exit(data, "stop_loss", "stop_price", "limit_price"),
            )
        else:
            order, created = entry.place_order(
                account,
                user,
                **common,
                order_type=data["type"],
                limit_price=_price(data, "limit_price"),
                stop_price=_price(data, "stop_price"),
            )
    except ServiceError as exc:
        if exc.code == "client_order_id_conflict" or "client_order_id" in exc.fields:
            raise errors.AlpacaError(
                422, errors.UNPROCESSABLE, "client_order_id must be unique"
            ) from exc
        raise
    return _orders(account).get(pk=order.pk), created


def _parse_time(value: str, name: str) -> datetime:
    return portfolio._parse_time(value, name)


def list_orders(account: Account, params) -> list[Order]:
    """GET /v2/orders: status open (default), closed or all; limit (50, at most 500);
    after/until (submission time); direction desc (default) or asc; side; symbols."""
    status = params.get("status") or "open"
    if status not in ("open", "closed", "all"):
        raise errors.invalid("status must be open, closed or all")
    try:
        limit = int(params.get("limit") or DEFAULT_LIMIT)
    except ValueError:
        raise errors.invalid("limit must be a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.invalid(f"limit must be between 1 and {MAX_LIMIT}")
    direction = params.get("direction") or "desc"
    if direction not in ("asc", "desc"):
        raise errors.invalid("direction must be asc or desc")
    queryset = _orders(account)
    if status == "open":
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    elif status == "closed":
        queryset = queryset.exclude(status__in=OPEN_STATUSES)
    if params.get("after"):
        queryset = queryset.filter(created_at__gt=_parse_time(params["after"], "after"))
    if params.get("until"):
        queryset = queryset.filter(created_at__lt=_parse_time(params["until"], "until"))
    side = params.get("side")
    if side:
        if side not in ("buy", "sell"):
            raise errors.invalid("side must be buy or sell")
        queryset = queryset.filter(side=side)
    symbols = [s.strip().upper() for s in (params.get("symbols") or "").split(",") if s.strip()]
    if symbols:
        queryset = queryset.filter(security__symbol__in=symbols)
    if truthy(params.get("nested")):  # legs under their parents, not on their own
        queryset = queryset.filter(parent__isnull=True).prefetch_related(
            Prefetch(
                "legs",
                queryset=Order.objects.filter(replaced_by__isnull=True)
                .select_related("security", "replaces", "replaced_by")
                .order_by("id"),
                to_attr="current_legs",
            )
        )
    order = ("created_at", "id") if direction == "asc" else ("-created_at", "-id")
    return list(queryset.order_by(*order)[:limit])


def cancel(account: Account, user: User | None, order_id: str) -> Order:
    """DELETE /v2/orders/{id}: asks the routing engine to cancel (the order is
    pending_cancel until it answers)."""
    order = get_order(account, order_id)
    if order.status not in CANCELABLE:
        raise errors.AlpacaError(
            422, errors.UNPROCESSABLE, f"order is {order.status}: not cancelable"
        )
    return entry.cancel_order(order, user)


def cancel_all(account: Account, user: User | None) -> list[dict]:
    """DELETE /v2/orders: one result per open order (Alpaca answers 207)."""
    results = []
    for order in _orders(account).filter(status__in=CANCELABLE).order_by("created_at", "id"):
        try:
            canceled = entry.cancel_order(order, user)
            results.append({"id": str(order.uuid), "status": 200, "body": order_dict(canceled)})
        except ServiceError as exc:
            order.refresh_from_db()
            if order.status in (OrderStatus.CANCELED, OrderStatus.PENDING_CANCEL):
                # canceled with its group (a bracket's legs follow their entry)
                results.append({"id": str(order.uuid), "status": 200, "body": order_dict(order)})
                continue
            status, body = errors.from_service_error(exc)
            results.append({"id": str(order.uuid), "status": status, "body": body})
    return results


def replace(account: Account, user: User | None, order_id: str, data: dict) -> Order:
    """PATCH /v2/orders/{id}: cancel/replace with a new qty, prices, time in force or
    client_order_id; returns the new order."""
    if not isinstance(data, dict):
        raise errors.AlpacaError(400, errors.MALFORMED, "request body format is invalid")
    if data.get("time_in_force") in ("opg", "cls"):
        raise errors.AlpacaError(422, errors.UNPROCESSABLE, "time_in_force is not offered")
    order = get_order(account, order_id)
    if order.status not in CANCELABLE:
        raise errors.AlpacaError(
            422, errors.UNPROCESSABLE, f"order is {order.status}: not replaceable"
        )
    if data.get("trail") not in (None, ""):
        if order.order_type != OrderType.TRAILING_STOP or order.triggered_at is not None:
            raise errors.invalid("trail changes only a trailing_stop order not yet triggered")
        if any(data.get(k) not in (None, "") for k in ("qty", "limit_price", "stop_price")):
            raise errors.invalid("a trailing_stop order changes only its trail")
        return _orders(account).get(pk=classes.replace_trail(order, _price(data, "trail")).pk)
    client_order_id = data.get("client_order_id")
    if client_order_id is not None and (
        not isinstance(client_order_id, str) or len(client_order_id) > MAX_CLIENT_ORDER_ID
    ):
        raise errors.invalid(f"client_order_id must be at most {MAX_CLIENT_ORDER_ID} characters")
    try:
        new = entry.replace_order(
            order,
            user,
            qty=_qty(data) if data.get("qty") not in (None, "") else None,
            limit_price=_price(data, "limit_price"),
            stop_price=_price(data, "stop_price"),
            time_in_force=data.get("time_in_force") or None,
            client_order_id=client_order_id,
        )
    except ServiceError as exc:
        if exc.code == "client_order_id_conflict" or "client_order_id" in exc.fields:
            raise errors.AlpacaError(
                422, errors.UNPROCESSABLE, "client_order_id must be unique"
            ) from exc
        raise
    return _orders(account).get(pk=new.pk)


def truthy(value) -> bool:
    return str(value).lower() in ("true", "1", "yes")


def _still_open(account: Account, symbol: str | None) -> list[Order]:
    orders = _orders(account).filter(status__in=OPEN_STATUSES)
    if symbol:
        orders = orders.filter(security__symbol=symbol)
    return list(orders.order_by("created_at", "id"))


def cancel_and_confirm(
    account: Account, user: User | None, symbol: str | None = None
) -> list[Order]:
    """Cancel the open orders (of `symbol`, or all) and wait for the routing engine to
    confirm, at most CLOSE_POSITION_CANCEL_WAIT_SECONDS: a closing order sized while a
    sell's cancel is still on its way would leave the shares it ties up unsold. Returns
    the orders still open then (no answer yet, or a cancel the engine refused)."""
    for order in _still_open(account, symbol):
        if order.status in CANCELABLE:
            with contextlib.suppress(ServiceError):  # it finished meanwhile: checked below
                entry.cancel_order(order, user)
    deadline = time.monotonic() + settings.CLOSE_POSITION_CANCEL_WAIT_SECONDS
    while True:
        still_open = _still_open(account, symbol)
        waiting = any(o.status == OrderStatus.PENDING_CANCEL for o in still_open)
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if still_open:
        log.warning(
            "Closing positions of account %s: orders still open after canceling: %s",
            account.account_number,
            _named(still_open),
        )
    return still_open


def _named(orders: list[Order]) -> str:
    return "; ".join(
        f"{o.uuid} ({o.side} {o.qty - o.filled_qty} {o.security.symbol}, {o.status})"
        for o in orders
    )


def _not_closed(orders: list[Order], held=None) -> errors.AlpacaError:
    """Alpaca-style: the position is not closed while these orders are open (with the
    position's figures, as Alpaca's close-position errors give them)."""
    figures = {"symbol": orders[0].security.symbol}
    if held is not None:
        figures |= {
            "available": text(held.qty_available),
            "existing_qty": text(held.position.qty),
            "held_for_orders": text(held.position.qty - held.qty_available),
        }
    return errors.AlpacaError(
        422,
        errors.UNPROCESSABLE,
        "open orders could not be canceled in time, position not closed; "
        f"still open: {_named(orders)}",
        open_orders=[str(o.uuid) for o in orders],
        **figures,
    )


def close_position(account: Account, user: User | None, symbol_or_id: str, params) -> Order:
    """DELETE /v2/positions/{symbol}: a market sell of the shares available (or `qty`,
    or `percentage` of them, rounded down to whole shares). With `cancel_orders=true`
    the symbol's open orders are canceled first, and the cancels confirmed."""
    if truthy(params.get("cancel_orders")):
        held = portfolio.position(account, symbol_or_id)
        still_open = cancel_and_confirm(account, user, held.position.security.symbol)
        if still_open:
            raise _not_closed(still_open, portfolio.position(account, symbol_or_id))
    held = portfolio.position(account, symbol_or_id)
    qty, percentage = params.get("qty"), params.get("percentage")
    if qty and percentage:
        raise errors.invalid("give qty or percentage, not both")
    try:
        if percentage:
            share = Decimal(percentage)
            if not 0 < share <= 100:
                raise errors.invalid("percentage must be more than 0 and at most 100")
            wanted = int(held.position.qty * share / 100)
        elif qty:
            wanted = Decimal(qty)
        else:
            wanted = held.qty_available
    except InvalidOperation:
        raise errors.invalid("qty and percentage must be numbers") from None
    if not wanted:
        raise errors.AlpacaError(
            403,
            errors.FORBIDDEN,
            "insufficient qty available for order",
            available=text(held.qty_available),
            existing_qty=text(held.position.qty),
            held_for_orders=text(held.position.qty - held.qty_available),
            symbol=held.position.security.symbol,
        )
    order, _ = entry.place_order(
        account,
        user,
        symbol=held.position.security.symbol,
        side="sell",
        order_type="market",
        time_in_force="day",
        qty=str(wanted),
    )
    return _orders(account).get(pk=order.pk)


def close_all_positions(account: Account, user: User | None, cancel_orders: bool) -> list[dict]:
    """DELETE /v2/positions: a market sell per position (Alpaca answers 207). With
    `cancel_orders`, every open order is canceled first and the cancels confirmed, so
    each position is sold whole; a symbol with an order still open after the wait is
    not sold and answers a 422 naming the open orders (a symbol with an open order and
    no position too)."""
    still_open = cancel_and_confirm(account, user) if cancel_orders else []
    open_by_symbol: dict[str, list[Order]] = {}
    for order in still_open:
        open_by_symbol.setdefault(order.security.symbol, []).append(order)
    results = []
    for held in portfolio.valued_positions(account):
        symbol = held.position.security.symbol
        try:
            if symbol in open_by_symbol:
                raise _not_closed(open_by_symbol.pop(symbol), held)
            order = close_position(account, user, symbol, {})
            results.append({"symbol": symbol, "status": 200, "body": order_dict(order)})
        except errors.AlpacaError as exc:
            results.append(
                {
                    "symbol": symbol,
                    "status": exc.status_code,
                    "body": errors.body(exc.alpaca_code, exc.message, **exc.extra),
                }
            )
        except ServiceError as exc:
            status, body = errors.from_service_error(exc)
            results.append({"symbol": symbol, "status": status, "body": body})
    for symbol, orders in open_by_symbol.items():
        exc = _not_closed(orders)
        results.append(
            {
                "symbol": symbol,
                "status": exc.status_code,
                "body": errors.body(exc.alpaca_code, exc.message, **exc.extra),
            }
        )
    return results
