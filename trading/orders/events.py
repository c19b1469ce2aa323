"""Order events for the account event log (accounts/events): each change of an order
is named as Alpaca's trade updates name it (pending_new, new, partial_fill, fill,
canceled, expired, done_for_day, replaced, rejected, pending_cancel, pending_replace,
order_cancel_rejected, order_replace_rejected, trade_bust, trade_correct) and carries
a snapshot of the order at that moment, so a stream or a replay needs no query.

One INSERT per change: an answer that changes two orders (a replace) writes both
events in one statement."""

import uuid
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.events import log as event_log
from trading.orders.models import Execution, Order, OrderStatus

# Our order status -> the trade update event that reports reaching it.
STATUS_EVENT = {
    OrderStatus.PENDING_NEW: "pending_new",
    OrderStatus.NEW: "new",
    OrderStatus.PARTIALLY_FILLED: "partial_fill",
    OrderStatus.FILLED: "fill",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "expired",
    OrderStatus.REPLACED: "replaced",
    OrderStatus.REJECTED: "rejected",
    OrderStatus.PENDING_CANCEL: "pending_cancel",
    OrderStatus.PENDING_REPLACE: "pending_replace",
}


def _text(value) -> str | None:
    """A decimal as the trading API writes it: "100.5", "10", "0"; None stays None."""
    if value is None:
        return None
    out = f"{Decimal(value):f}"
    out = out.rstrip("0").rstrip(".") if "." in out else out
    return out if out not in ("", "-0") else "0"


def _uuid_of_replaced(order: Order) -> str | None:
    if not order.replaces_id:
        return None
    if Order.replaces.is_cached(order):
        return str(order.replaces.uuid)
    return str(Order.objects.values_list("uuid", flat=True).get(pk=order.replaces_id))


def execution_uuid(execution: Execution) -> str:
    """A fill's id in the trading API: a UUID derived from its report's identity."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"rushtrade:execution:{execution.report_key}"))


def snapshot(order: Order, replaced_by: Order | None = None) -> dict:
    """The order as it is now (the security and the order it replaces selected)."""
    return {
        "id": str(order.uuid),
        "client_order_id": order.client_order_id,
        "symbol": order.security.symbol,
        "asset_id": str(order.security.uuid),
        "side": order.side,
        "type": order.order_type,
        "time_in_force": order.time_in_force,
        "qty": str(order.qty),
        "filled_qty": str(order.filled_qty),
        "filled_avg_price": _text(order.filled_avg_price),
        "limit_price": _text(order.limit_price),
        "stop_price": _text(order.stop_price),
        "status": order.status,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "submitted_at": order.submitted_at,
        "filled_at": order.filled_at,
        "canceled_at": order.canceled_at,
        "replaces": _uuid_of_replaced(order),
        "replaced_by": str(replaced_by.uuid) if replaced_by else None,
        "reject_reason": order.reject_reason or None,
        "order_class": order.order_class,
        "trail_price": _text(order.trail_price),
        "trail_percent": _text(order.trail_percent),
        "hwm": _text(order.hwm),
    }


def change(
    order: Order,
    event: str,
    *,
    at: datetime | None = None,
    execution: Execution | None = None,
    position_qty: int | None = None,
    replaced_by: Order | None = None,
) -> dict:
    """One trade update (not yet written): see `record`."""
    payload = {
        "event": event,
        "order": snapshot(order, replaced_by),
        "timestamp": at or timezone.now(),
    }
    if execution is not None:
        payload |= {
            "execution_id": execution_uuid(execution),
            "exec_id": execution.exec_id,
            "price": _text(execution.price),
            "qty": str(execution.qty),
            "position_qty": str(position_qty if position_qty is not None else 0),
        }
    return {"account_id": order.account_id, "kind": f"order.{event}", "payload": payload}


def record(*changes: dict) -> None:
    """Write the trade updates made by `change`, in one statement."""
    event_log.record_many(changes)
