"""Applying the routing engine's answers: ExecutionReport (35=8) and OrderCancelReject
(35=9). Each report is applied exactly once (its ExecID is inserted into
ExecutionReportLog in the same transaction as its effects), in any order the standard
allows: a fill may come with no acknowledgement before it.

A fill posts the trade to the cash ledger (settling T+1), updates the position, and
shrinks the order's hold to what the rest of the order still needs; an order that is
done (filled, canceled, rejected, expired, replaced) releases its hold.
"""

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.money import ledger
from accounts.money.models import JournalEntryKind, LedgerAccountKind
from trading.market.calendar import settlement_date
from trading.orders import fees
from trading.orders.models import (
    Execution,
    ExecutionReportLog,
    Order,
    OrderSide,
    OrderStatus,
    OutboxMessage,
    Position,
)

CENT = Decimal("0.01")
DONE = {
    OrderStatus.FILLED,
    OrderStatus.CANCELED,
    OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
    OrderStatus.REPLACED,
}

# FIX 4.2 OrdStatus (39) -> our order status.
ORD_STATUS = {
    "0": OrderStatus.NEW,
    "1": OrderStatus.PARTIALLY_FILLED,
    "2": OrderStatus.FILLED,
    "3": OrderStatus.EXPIRED,  # done for day
    "4": OrderStatus.CANCELED,
    "5": OrderStatus.REPLACED,
    "6": OrderStatus.PENDING_CANCEL,
    "8": OrderStatus.REJECTED,
    "A": OrderStatus.PENDING_NEW,
    "C": OrderStatus.EXPIRED,
    "E": OrderStatus.PENDING_REPLACE,
}


@dataclass(frozen=True)
class ExecutionReport:
    """The fields of a FIX 4.2 ExecutionReport the portal uses."""

    exec_id: str
    cl_ord_id: str
    exec_type: str  # 150
    ord_status: str  # 39
    orig_cl_ord_id: str = ""
    order_id: str = ""
    last_qty: int = 0  # 32 LastShares
    last_px: Decimal = Decimal("0")  # 31
    cum_qty: int = 0  # 14
    leaves_qty: int = 0  # 151
    avg_px: Decimal = Decimal("0")  # 6
    text: str = ""  # 58
    transact_time: datetime | None = None  # 60
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        data = asdict(self)
        return {k: str(v) if isinstance(v, Decimal | datetime) else v for k, v in data.items()}


def _log(key: str, cl_ord_id: str, exec_type: str, order, payload) -> bool:
    """Record the report; False if it was applied before. One statement (no savepoint):
    the unique report key decides, also against a concurrent delivery."""
    table = ExecutionReportLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (report_key, cl_ord_id, exec_type, order_id, payload, "  # noqa: S608
            "received_at) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (report_key) DO NOTHING RETURNING id",
            [
                key,
                cl_ord_id,
                exec_type,
                order.pk if order else None,
                json.dumps(payload),
                timezone.now(),
            ],
        )
        return cursor.fetchone() is not None


def _order_for(cl_ord_id: str) -> Order | None:
    order = Order.objects.filter(cl_ord_id=cl_ord_id).first()
    if order is None:  # a cancel request's ClOrdID names the outbox row, not the order
        message = OutboxMessage.objects.filter(cl_ord_id=cl_ord_id).select_related("order").first()
        order = message.order if message else None
    return order


def _lock(order: Order, account: bool = True) -> Order:
    """Lock the order, after its account unless `account` is False (the account lock
    comes first everywhere, so two transactions never wait on each other in a cycle)."""
    if account:
        ledger.lock_account(order.account_id)
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("security", "account")
        .get(pk=order.pk)
    )


def _remaining_hold(order: Order) -> Decimal:
    if order.side != OrderSide.BUY or order.status in DONE:
        return Decimal("0")
    leaves = order.qty - order.filled_qty
    if order.qty == 0 or leaves <= 0:
        return Decimal("0")
    return (order.held_amount * leaves / order.qty).quantize(CENT, ROUND_HALF_UP)


def _apply_fill(order: Order, report: ExecutionReport) -> Execution:
    qty, price = report.last_qty, report.last_px
    executed_at = report.transact_time or timezone.now()
    charges = fees.charges(
        order.side, qty, price, order_qty=order.qty, first_fill=order.filled_qty == 0
    )
    principal = (price * qty).quantize(CENT, ROUND_HALF_UP)
    trade_date = timezone.localtime(executed_at).date()
    settles = settlement_date(trade_date)
    account = order.account
    cash, clearing, commission_revenue, regulatory = ledger.ledger_accounts(
        account,
        LedgerAccountKind.CLEARING,
        LedgerAccountKind.COMMISSION_REVENUE,
        LedgerAccountKind.REGULATORY_FEES,
    )
    symbol = order.security.symbol
    if order.side == OrderSide.BUY:
        customer = -(principal + charges.commission)
        words = f"Bought {qty} {symbol} @ {price:.4f}".rstrip("0").rstrip(".")
        lines = [ledger.Line(cash, customer, settles), ledger.Line(clearing, principal, settles)]
    else:
        customer = principal - charges.commission - charges.fees
        words = f"Sold {qty} {symbol} @ {price:.4f}".rstrip("0").rstrip(".")
        lines = [ledger.Line(cash, customer, settles), ledger.Line(clearing, -principal, settles)]
        if charges.fees:
            lines.append(ledger.Line(regulatory, charges.fees, settles))
    if charges.commission:
        lines.append(ledger.Line(commission_revenue, charges.commission, settles))
    entry = ledger.post_journal_entry(
        JournalEntryKind.BUY if order.side == OrderSide.BUY else JournalEntryKind.SELL,
        words,
        lines,
        account=account,
        idempotency_key=f"exec:{report.exec_id}",
        effective_on=trade_date,
    )
    execution = Execution.objects.create(
        order=order,
        exec_id=report.exec_id,
        qty=qty,
        price=price,
        commission=charges.commission,
        fees=charges.fees,
        executed_at=executed_at,
        journal_entry=entry,
    )

    position, _ = Position.objects.select_for_update().get_or_create(
        account=account, security=order.security
    )
    if order.side == OrderSide.BUY:
        total = position.qty + qty
        position.avg_cost = ((position.avg_cost * position.qty + price * qty) / total).quantize(
            Decimal("0.0001"), ROUND_HALF_UP
        )
        position.qty = total
    else:
        position.realized_pnl += ((price - position.avg_cost) * qty).quantize(CENT, ROUND_HALF_UP)
        position.qty -= qty
        if position.qty == 0:
            position.avg_cost = Decimal("0")
    position.save()

    previous = order.filled_qty
    order.filled_qty = previous + qty
    order.filled_avg_price = (
        ((order.filled_avg_price or Decimal("0")) * previous + price * qty) / order.filled_qty
    ).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    if order.filled_qty >= order.qty:
        order.filled_at = executed_at
    return execution


@transaction.atomic
def apply_execution_report(report: ExecutionReport) -> Order | None:
    """Apply one ExecutionReport once; returns the order (None if unknown)."""
    order = _order_for(report.cl_ord_id)
    if not _log(f"8:{report.exec_id}", report.cl_ord_id, report.exec_type, order, report.as_json()):
        return order  # a resend: already applied
    if order is None:
        return None
    is_fill = report.last_qty > 0 and report.exec_type != "5"
    if not is_fill and report.exec_type == "0" and report.ord_status == "0":
        return _acknowledge(order)
    order = _lock(order)
    replaced = None
    if report.exec_type == "5" and report.orig_cl_ord_id:  # replaced: old -> new
        replaced = Order.objects.filter(cl_ord_id=report.orig_cl_ord_id).first()
        if replaced is not None:
            replaced = _lock(replaced)
            replaced.status = OrderStatus.REPLACED
            replaced.save(update_fields=["status", "updated_at"])
            ledger.adjust_hold(replaced.account, f"order:{replaced.pk}", Decimal("0"))
            order.filled_qty = replaced.filled_qty
            order.filled_avg_price = replaced.filled_avg_price

    # A fill is any report carrying LastShares (ExecType 1 or 2 in FIX 4.2), but never more
    # than the order's quantity.
    if is_fill and order.filled_qty + report.last_qty <= order.qty:
        _apply_fill(order, report)

    new_status = ORD_STATUS.get(report.ord_status, order.status)
    if report.exec_type == "5":
        new_status = OrderStatus.PARTIALLY_FILLED if order.filled_qty else OrderStatus.NEW
    order.status = _next_status(order, new_status)
    if order.status == OrderStatus.REJECTED:
        order.reject_reason = report.text[:300]
    if order.status == OrderStatus.CANCELED:
        order.canceled_at = timezone.now()
    if order.submitted_at is None:
        order.submitted_at = timezone.now()
    order.save(
        update_fields=[
            "status",
            "reject_reason",
            "canceled_at",
            "submitted_at",
            "filled_qty",
            "filled_avg_price",
            "filled_at",
            "updated_at",
        ]
    )
    ledger.adjust_hold(order.account, f"order:{order.pk}", _remaining_hold(order))
    return order


def _acknowledge(order: Order) -> Order:
    """ExecType New (150=0, 39=0): the engine has the order. Nothing is filled or
    released, so neither the account nor the hold is touched: only the order's row."""
    order = _lock(order, account=False)
    status = _next_status(order, OrderStatus.NEW)
    if status != order.status or order.submitted_at is None:
        order.status = status
        order.submitted_at = order.submitted_at or timezone.now()
        order.save(update_fields=["status", "submitted_at", "updated_at"])
    return order


def _next_status(order: Order, reported: str) -> str:
    """Never leave a final state; while a cancel or replace is pending, a partial fill
    keeps it pending (the engine's answer to the request decides)."""
    if order.status in DONE:
        return order.status
    if order.filled_qty >= order.qty:
        return OrderStatus.FILLED
    if order.status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE) and reported in (
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_NEW,
    ):
        return order.status
    if reported == OrderStatus.NEW and order.filled_qty:
        return OrderStatus.PARTIALLY_FILLED
    return reported


@transaction.atomic
def apply_cancel_reject(
    cl_ord_id: str, orig_cl_ord_id: str, text: str = "", response_to: str = "1"
) -> Order | None:
    """OrderCancelReject (35=9): the order stays as it was before the request; a
    rejected replacement order is rejected and its hold released. `response_to` is
    CxlRejResponseTo (434): 1 = cancel, 2 = cancel/replace."""
    message = OutboxMessage.objects.filter(cl_ord_id=cl_ord_id).select_related("order").first()
    order = Order.objects.filter(cl_ord_id=orig_cl_ord_id).first()
    if not _log(
        f"9:{cl_ord_id}",
        cl_ord_id,
        "cancel_reject",
        order,
        {"orig_cl_ord_id": orig_cl_ord_id, "text": text, "response_to": response_to},
    ):
        return order
    if order is None:
        return None
    order = _lock(order)
    if order.status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE):
        previous = message.payload.get("previous_status") if message else None
        if order.filled_qty >= order.qty:
            order.status = OrderStatus.FILLED
        else:
            order.status = previous or (
                OrderStatus.PARTIALLY_FILLED if order.filled_qty else OrderStatus.NEW
            )
        order.save(update_fields=["status", "updated_at"])
    if message and message.kind == OutboxMessage.Kind.REPLACE and message.order_id != order.pk:
        replacement = _lock(message.order)
        if replacement.status not in DONE:
            replacement.status = OrderStatus.REJECTED
            replacement.reject_reason = (text or "Replace rejected by the routing engine")[:300]
            replacement.save(update_fields=["status", "reject_reason", "updated_at"])
            ledger.adjust_hold(replacement.account, f"order:{replacement.pk}", Decimal("0"))
    return order
