"""Applying the routing engine's answers: ExecutionReport (35=8), OrderCancelReject
(35=9), and the rejects of an order message (session Reject 35=3, BusinessMessageReject
35=j).

Each answer is applied exactly once: its identity is inserted into ExecutionReportLog in
the same transaction as its effects. A report's identity is what stays unique across
engine restarts (FIX 4.2 asks ExecIDs to be unique only within a day and session, and
many engines number them per process): the session, the order, ExecTransType and ExecID.
A true redelivery (PossDupFlag=Y, or the same identity with the same content) is a
no-op; the same identity with other content is a new report (logged as a warning).

Reports are applied in any order the standard allows: a fill with no acknowledgement
before it, partial fills whose CumQty goes down, a DAY expiry or an unsolicited cancel,
a trade busted (ExecTransType 1) or corrected (2), a status report (3).

A fill posts the trade to the cash ledger (settling T+1 from its trade date), updates
the position, and shrinks the order's hold to what the rest of the order still needs; an
order that is done (filled, canceled, rejected, expired, replaced) releases its hold.

What cannot be applied (an unknown ClOrdID, a fill past the order's quantity, a bust of
an unknown fill, a status report showing fills never received) raises `Unapplicable`:
the inbox parks it with the reason for staff, and nothing of it is written.
"""

import hashlib
import json
import logging
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.money import ledger
from accounts.money.models import JournalEntryKind, LedgerAccountKind
from accounts.opening.models import Account
from trading.market.calendar import settlement_date
from trading.orders import classes, events, fees, fill_emails
from trading.orders.models import (
    Execution,
    ExecutionReportLog,
    Order,
    OrderSide,
    OrderStatus,
    OutboxMessage,
    Position,
)

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")
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

# ExecTransType (20)
NEW, CANCEL, CORRECT, STATUS = "0", "1", "2", "3"


class Unapplicable(Exception):
    """An answer of the engine that cannot be applied; the reason says why (for staff)."""


class NotYet(Exception):
    """An answer that may name a message still being sent (its MsgSeqNum not recorded
    yet): apply it again in a moment, before anything after it."""


def default_session() -> str:
    return f"{settings.FIX_SENDER_COMP_ID}->{settings.FIX_TARGET_COMP_ID}"


FIRM_LEDGERS = (
    LedgerAccountKind.CLEARING,
    LedgerAccountKind.COMMISSION_REVENUE,
    LedgerAccountKind.REGULATORY_FEES,
)


@dataclass
class Batch:
    """What the answers applied in one transaction (an inbox batch) share, so that each
    costs a few statements rather than twenty:

    - the orders and outbox rows they name, read in one query (what never changes: the
      order is locked and read again before it is changed);
    - the accounts whose money they move, locked together at the start in id order (the
      account lock comes first everywhere, so no cycle), and those accounts' ledgers;
    - `deferred` (the fast path, no savepoint per answer: any failure redoes the whole
      batch the careful way): the orders locked so far, kept current in memory; the
      journal entries, executions, hold changes and "answered" marks, written in bulk
      by `flush()`.
    """

    orders: dict[str, Order] = field(default_factory=dict)
    messages: dict[str, OutboxMessage] = field(default_factory=dict)
    accounts: set[int] = field(default_factory=set)
    ledgers: dict[int, list] = field(default_factory=dict)
    deferred: bool = False
    locked: dict[int, Order] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    holds: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    answered: set[str] = field(default_factory=set)

    def flush(self) -> None:
        """Write what was deferred (executions after their journal entries)."""
        if not self.deferred:
            return
        ledger.flush_entries()
        if self.executions:
            written = Execution.objects.bulk_create(self.executions)
            fill_emails.fills_written([e.pk for e in written])
            self.executions.clear()
        ledger.adjust_holds(self.holds)
        self.holds.clear()
        if self.answered:
            _mark_answered(self.answered)
            self.answered.clear()


_batch: ContextVar[Batch | None] = ContextVar("executions_batch", default=None)


@contextmanager
def batch(names: Iterable[str], money: Iterable[str] = (), *, deferred: bool = False):
    """Apply many answers in the caller's transaction: `names` are the ClOrdIDs they
    name, `money` those of answers that may move money (their accounts are locked now).
    With `deferred`, the caller must not roll back part of the block (no savepoints):
    writes are collected and flushed when the block ends."""
    names, money = set(filter(None, names)), set(filter(None, money))
    current = Batch(deferred=deferred)
    if money:  # the accounts first, in id order: the account lock comes first everywhere
        named = Order.objects.filter(Q(cl_ord_id__in=money) | Q(outbox__cl_ord_id__in=money))
        current.accounts = set(
            Account.objects.select_for_update()
            .filter(pk__in=named.values("account_id"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        current.ledgers = ledger.ledger_accounts_for(current.accounts, *FIRM_LEDGERS)
    if names:
        orders = Order.objects.filter(cl_ord_id__in=names).select_related("security", "account")
        if deferred:  # locked once for the batch, then kept current in memory
            orders = orders.select_for_update(of=("self",)).order_by("pk")
        current.orders = {o.cl_ord_id: o for o in orders}
        if deferred:
            current.locked = {o.pk: o for o in current.orders.values()}
        others = names - current.orders.keys()
        if others:
            current.messages = {
                m.cl_ord_id: m
                for m in OutboxMessage.objects.filter(cl_ord_id__in=others).select_related(
                    "order__security", "order__account"
                )
            }
    token = _batch.set(current)
    try:
        if deferred:
            with ledger.deferred_entries():
                yield current
                current.flush()
        else:
            yield current
    finally:
        _batch.reset(token)


def _message_order(message: OutboxMessage | None) -> Order | None:
    return message.order if message else None


@dataclass(frozen=True)
class ExecutionReport:
    """The fields of a FIX 4.2 ExecutionReport the portal uses."""

    exec_id: str
    cl_ord_id: str
    exec_type: str  # 150
    ord_status: str  # 39
    orig_cl_ord_id: str = ""
    order_id: str = ""  # 37, the engine's
    last_qty: int = 0  # 32 LastShares
    last_px: Decimal = Decimal("0")  # 31
    cum_qty: int = 0  # 14
    leaves_qty: int = 0  # 151
    avg_px: Decimal = Decimal("0")  # 6
    text: str = ""  # 58
    transact_time: datetime | None = None  # 60; absent: when it was received
    exec_trans_type: str = NEW  # 20
    exec_ref_id: str = ""  # 19, the fill a bust or correction refers to
    session: str = ""  # our side's Sender->Target; "" = the configured one
    poss_dup: bool = False  # 43
    received_at: datetime | None = None
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        data = asdict(self)
        return {k: str(v) if isinstance(v, Decimal | datetime) else v for k, v in data.items()}

    @property
    def content(self) -> str:
        """What a redelivery repeats exactly (to tell it from a reused ExecID)."""
        parts = (
            self.exec_type,
            self.ord_status,
            self.last_qty,
            self.last_px,
            self.cum_qty,
            self.leaves_qty,
            self.exec_ref_id,
        )
        return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def report_key(report: ExecutionReport, order: Order) -> str:
    session = report.session or default_session()
    return f"8:{session}:{order.pk}:{report.exec_trans_type}:{report.exec_id}"


def ledger_key(key: str) -> str:
    """The ledger's idempotency key of a fill (the report key can be long)."""
    return "exec:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _log(key: str, cl_ord_id: str, exec_type: str, order, payload) -> bool:
    """Record the answer; False if it was applied before. One statement (no savepoint):
    the unique key decides, also against a concurrent delivery."""
    table = ExecutionReportLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (report_key, cl_ord_id, exec_type, order_id, payload, "  # noqa: S608
            "received_at) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (report_key) DO NOTHING RETURNING id",
            [
                key,
                cl_ord_id[:40],
                exec_type[:20],
                order.pk if order else None,
                json.dumps(payload),
                timezone.now(),
            ],
        )
        return cursor.fetchone() is not None


def _log_report(report: ExecutionReport, order: Order) -> str | None:
    """Log the report under its identity; the key it was logged under, or None for a
    redelivery. The same identity with other content is a different report (an engine
    that reused an ExecID for the same order): logged under a key of its content."""
    key = report_key(report, order)
    payload = report.as_json() | {"content": report.content}
    if _log(key, report.cl_ord_id, report.exec_type, order, payload):
        return key
    if report.poss_dup:
        return None
    first = ExecutionReportLog.objects.filter(report_key=key).values_list("payload", flat=True)
    if first and first[0].get("content") in (None, report.content):
        return None
    variant = f"{key}:{report.content}"
    if not _log(variant, report.cl_ord_id, report.exec_type, order, payload):
        return None
    log.warning(
        "ExecID %s reused for order %s (ClOrdID %s) with other content: applied as a new report",
        report.exec_id,
        order.pk,
        report.cl_ord_id,
    )
    return variant


def _order_for(cl_ord_id: str) -> Order | None:
    current = _batch.get()
    if current is not None:
        found = current.orders.get(cl_ord_id) or _message_order(current.messages.get(cl_ord_id))
        if found is not None:
            return found
    order = Order.objects.filter(cl_ord_id=cl_ord_id).first()
    if order is None:  # a cancel request's ClOrdID names the outbox row, not the order
        message = OutboxMessage.objects.filter(cl_ord_id=cl_ord_id).select_related("order").first()
        order = message.order if message else None
    return order


def _answered(*cl_ord_ids: str) -> None:
    current = _batch.get()
    if current is not None and current.deferred:
        current.answered.update(c for c in cl_ord_ids if c)
    else:
        _mark_answered(cl_ord_ids)


def _mark_answered(cl_ord_ids: Iterable[str]) -> None:
    """One statement; the rows are locked in id order, as the gateway marks them sent,
    so the two never wait on each other in a cycle."""
    names = sorted({c for c in cl_ord_ids if c})
    if not names:
        return
    if connection.vendor != "postgresql":
        OutboxMessage.objects.filter(cl_ord_id__in=names, answered_at__isnull=True).update(
            answered_at=timezone.now()
        )
        return
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET answered_at = %s WHERE id IN (SELECT id FROM {table} "  # noqa: S608
            "WHERE cl_ord_id = ANY(%s) AND answered_at IS NULL ORDER BY id FOR UPDATE)",
            [timezone.now(), names],
        )


def _lock(order: Order, account: bool = True) -> Order:
    """Lock the order, after its account unless `account` is False (the account lock
    comes first everywhere, so two transactions never wait on each other in a cycle).
    In a batch, an account locked with the batch is not locked again, and on the fast
    path an order locked before in the batch is the same (current) object."""
    current = _batch.get()
    if current is not None and current.deferred and order.pk in current.locked:
        return current.locked[order.pk]
    if account and not (current is not None and order.account_id in current.accounts):
        ledger.lock_account(order.account_id)
    locked = (
        Order.objects.select_for_update(of=("self",))
        .select_related("security", "account", "replaces")
        .get(pk=order.pk)
    )
    if current is not None and current.deferred:
        current.locked[order.pk] = locked
    return locked


def _adjust_hold(order: Order, amount: Decimal) -> None:
    """The order's hold set to `amount` (released at zero); deferred on the fast path."""
    current = _batch.get()
    if current is not None and current.deferred:
        current.holds[(order.account_id, f"order:{order.pk}")] = amount
    else:
        ledger.adjust_hold(order.account, f"order:{order.pk}", amount)


def _remaining_hold(order: Order) -> Decimal:
    if order.side != OrderSide.BUY or order.status in DONE:
        return Decimal("0")
    leaves = order.qty - order.filled_qty
    if order.qty == 0 or leaves <= 0:
        return Decimal("0")
    return (order.held_amount * leaves / order.qty).quantize(CENT, ROUND_HALF_UP)


def _ledger_lines(order: Order, qty: int, price: Decimal, charges, settles):
    current = _batch.get()
    found = current.ledgers.get(order.account_id) if current is not None else None
    cash, clearing, commission_revenue, regulatory = found or ledger.ledger_accounts(
        order.account, *FIRM_LEDGERS
    )
    principal = (price * qty).quantize(CENT, ROUND_HALF_UP)
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
    return words, lines


# One statement (INSERT ... ON CONFLICT DO UPDATE): the position after a fill, computed
# by PostgreSQL from the row as it is (SET reads the old values). round() rounds half
# away from zero, as ROUND_HALF_UP does.
_BUY_POSITION = """
INSERT INTO {table} AS p (account_id, security_id, qty, avg_cost, realized_pnl)
VALUES (%(account)s, %(security)s, %(qty)s, round(%(price)s, 4), 0)
ON CONFLICT (account_id, security_id) DO UPDATE SET
    qty = p.qty + %(qty)s,
    avg_cost = CASE WHEN p.qty + %(qty)s = 0 THEN 0
        ELSE round((p.avg_cost * p.qty + %(price)s * %(qty)s) / (p.qty + %(qty)s), 4) END
RETURNING p.qty
"""
_SELL_POSITION = """
INSERT INTO {table} AS p (account_id, security_id, qty, avg_cost, realized_pnl)
VALUES (%(account)s, %(security)s, %(sold)s, 0, round(%(price)s * %(qty)s, 2))
ON CONFLICT (account_id, security_id) DO UPDATE SET
    realized_pnl = p.realized_pnl + round((%(price)s - p.avg_cost) * %(qty)s, 2),
    qty = p.qty - %(qty)s,
    avg_cost = CASE WHEN p.qty - %(qty)s = 0 THEN 0 ELSE p.avg_cost END
RETURNING p.qty
"""


def _move_position(order: Order, qty: int, price: Decimal) -> int:
    """The position after a fill of `qty` at `price`, or after a busted fill is undone
    (`qty` < 0). A buy moves the average cost; a sell books realized P&L against it."""
    if connection.vendor != "postgresql":  # SQLite would compute it in floating point
        return _move_position_in_python(order, qty, price)
    sql = _BUY_POSITION if order.side == OrderSide.BUY else _SELL_POSITION
    with connection.cursor() as cursor:
        cursor.execute(
            sql.format(table=Position._meta.db_table),
            {
                "account": order.account_id,
                "security": order.security_id,
                "qty": qty,
                "sold": -qty,
                "price": price,
            },
        )
        return cursor.fetchone()[0]


def _move_position_in_python(order: Order, qty: int, price: Decimal) -> int:
    position, _ = Position.objects.select_for_update().get_or_create(
        account=order.account, security=order.security
    )
    if order.side == OrderSide.BUY:
        total = position.qty + qty
        position.avg_cost = (
            ((position.avg_cost * position.qty + price * qty) / total).quantize(
                PRICE_PLACES, ROUND_HALF_UP
            )
            if total
            else Decimal("0")
        )
        position.qty = total
    else:
        position.realized_pnl += ((price - position.avg_cost) * qty).quantize(CENT, ROUND_HALF_UP)
        position.qty -= qty
        if position.qty == 0:
            position.avg_cost = Decimal("0")
    position.save()
    return position.qty
    return position.qty


def _apply_fill(order: Order, report: ExecutionReport, key: str) -> Execution:
    qty, price = report.last_qty, report.last_px
    if order.filled_qty + qty > order.qty:
        raise Unapplicable(
            f"a fill of {qty} would take order {order.pk} (ClOrdID {order.cl_ord_id}) past its "
            f"quantity: {order.filled_qty} of {order.qty} filled"
        )
    if price <= 0:
        raise Unapplicable(f"a fill of {qty} at price {price}: not a price")
    executed_at = report.transact_time or report.received_at or timezone.now()
    charges = fees.charges(
        order.side, qty, price, order_qty=order.qty, first_fill=order.filled_qty == 0
    )
    trade_date = timezone.localtime(executed_at).date()
    words, lines = _ledger_lines(order, qty, price, charges, settlement_date(trade_date))
    entry = ledger.post_journal_entry(
        JournalEntryKind.BUY if order.side == OrderSide.BUY else JournalEntryKind.SELL,
        words,
        lines,
        account=order.account,
        idempotency_key=ledger_key(key),
        effective_on=trade_date,
    )
    execution = Execution(
        order=order,
        exec_id=report.exec_id,
        report_key=key,
        qty=qty,
        price=price,
        commission=charges.commission,
        fees=charges.fees,
        executed_at=executed_at,
        journal_entry=entry,
    )
    current = _batch.get()
    if current is not None and current.deferred:
        current.executions.append(execution)  # written after its journal entry
    else:
        execution.save(force_insert=True)
        fill_emails.fills_written([execution.pk])
    execution.position_qty = _move_position(order, qty, price)  # for the trade update
    previous = order.filled_qty
    order.filled_qty = previous + qty
    order.filled_avg_price = (
        ((order.filled_avg_price or Decimal("0")) * previous + price * qty) / order.filled_qty
    ).quantize(PRICE_PLACES, ROUND_HALF_UP)
    if order.filled_qty >= order.qty:
        order.filled_at = executed_at
    return execution


def _chain(order: Order) -> list[int]:
    """The order and the orders it replaced (their fills count as its own)."""
    ids, current = [order.pk], order
    while current.replaces_id:
        ids.append(current.replaces_id)
        current = Order.objects.only("id", "replaces_id").get(pk=current.replaces_id)
    return ids


def _bust(order: Order, report: ExecutionReport) -> Execution:
    """Undo the fill the report's ExecRefID names: a reversing ledger entry, the position
    and the order's filled quantity back, a notice to the customer."""
    current = _batch.get()
    if current is not None:
        current.flush()  # the fill may be in this batch; its hold is reinstated below
    busted = (
        Execution.objects.select_for_update(of=("self",))
        .filter(
            order_id__in=_chain(order), exec_id=report.exec_ref_id or "-", busted_at__isnull=True
        )
        .select_related("journal_entry")
        .order_by("-id")
        .first()
    )
    if busted is None:
        raise Unapplicable(
            f"ExecTransType {report.exec_trans_type} refers to ExecRefID {report.exec_ref_id!r}, "
            f"which is no fill of order {order.pk} (ClOrdID {order.cl_ord_id})"
        )
    what = "corrected" if report.exec_trans_type == CORRECT else "canceled (busted)"
    ledger.reverse_entry(
        busted.journal_entry, None, f"Trade {what} by the market: ExecID {busted.exec_id}"
    )
    busted.busted_at = timezone.now()
    busted.save(update_fields=["busted_at"])
    _move_position(order, -busted.qty, busted.price)
    order.filled_qty -= busted.qty
    remaining = Execution.objects.filter(order_id__in=_chain(order), busted_at__isnull=True)
    total = sum(e.qty * e.price for e in remaining)
    order.filled_avg_price = (
        (total / order.filled_qty).quantize(PRICE_PLACES, ROUND_HALF_UP)
        if order.filled_qty
        else None
    )
    order.filled_at = None if order.filled_qty < order.qty else order.filled_at
    order.notice = (
        f"The trade of {busted.qty} shares at ${busted.price:.2f} was {what} by the market"
        + (f": {report.text}" if report.text else ".")
    )[:300]
    log.warning(
        "Fill %s of order %s (ClOrdID %s) %s by the routing engine",
        busted.exec_id,
        order.pk,
        order.cl_ord_id,
        what,
    )
    return busted


@dataclass
class Applied:
    order: Order | None
    duplicate: bool = False


def apply_report(report: ExecutionReport) -> Applied:
    """Apply one ExecutionReport once (in the caller's transaction)."""
    order = _order_for(report.cl_ord_id)
    if order is None and report.orig_cl_ord_id:
        order = _order_for(report.orig_cl_ord_id)
    if order is None:
        raise Unapplicable(f"ExecutionReport for unknown ClOrdID {report.cl_ord_id!r}")
    key = _log_report(report, order)
    if key is None:
        return Applied(order, duplicate=True)
    _answered(report.cl_ord_id, report.orig_cl_ord_id)
    is_fill = report.last_qty > 0 and report.exec_type not in ("5", "D")
    trans = report.exec_trans_type
    if trans == NEW and not is_fill and report.exec_type == "0" and report.ord_status == "0":
        return Applied(_acknowledge(order, report))
    order = _lock(order)
    replaced = None
    if report.exec_type == "5" and report.orig_cl_ord_id:  # replaced: old -> new
        replaced = Order.objects.filter(cl_ord_id=report.orig_cl_ord_id).first()
        if replaced is not None and replaced.pk != order.pk:
            replaced = _lock(replaced, account=False)
            replaced.status = OrderStatus.REPLACED
            replaced.save(update_fields=["status", "updated_at"])
            _adjust_hold(replaced, Decimal("0"))
            order.filled_qty = replaced.filled_qty
            order.filled_avg_price = replaced.filled_avg_price
            if replaced.group is not None:  # its held or routed legs follow the replacement
                Order.objects.filter(parent=replaced).update(parent=order)

    reopen, fill = False, None
    if trans in (CANCEL, CORRECT):
        _bust(order, report)
        reopen = True
        if trans == CORRECT and is_fill:
            fill = _apply_fill(order, report, key)
    elif trans == STATUS:
        if report.cum_qty > order.filled_qty:
            raise Unapplicable(
                f"status report of order {order.pk} (ClOrdID {order.cl_ord_id}) shows "
                f"{report.cum_qty} filled, but fills of only {order.filled_qty} were received"
            )
    elif is_fill:
        fill = _apply_fill(order, report, key)

    new_status = ORD_STATUS.get(report.ord_status, order.status)
    if report.exec_type == "5":
        new_status = OrderStatus.PARTIALLY_FILLED if order.filled_qty else OrderStatus.NEW
    if trans == STATUS and report.ord_status == "8" and order.filled_qty:
        new_status = order.status  # "unknown order" for an order that has fills: keep it
    previous = order.status
    order.status = _next_status(order, new_status, reopen=reopen)
    if order.status == OrderStatus.REJECTED and previous != OrderStatus.REJECTED:
        order.reject_reason = (report.text or "Rejected by the routing engine")[:300]
        log.warning(
            "Order %s (ClOrdID %s) rejected by the routing engine: %s",
            order.pk,
            order.cl_ord_id,
            order.reject_reason,
        )
    if order.status == OrderStatus.CANCELED and order.canceled_at is None:
        order.canceled_at = timezone.now()
    if order.submitted_at is None:
        order.submitted_at = timezone.now()
    if report.order_id and report.order_id != "NONE" and not order.engine_order_id:
        order.engine_order_id = report.order_id[:64]
    order.save(
        update_fields=[
            "status",
            "reject_reason",
            "notice",
            "engine_order_id",
            "canceled_at",
            "submitted_at",
            "filled_qty",
            "filled_avg_price",
            "filled_at",
            "updated_at",
        ]
    )
    _set_hold(order, reopened=reopen)
    _trade_updates(order, report, previous, fill, replaced)
    if order.group is not None:  # a bracket, oco or oto: the group's rules
        classes.after_change(order, fill is not None and trans == NEW, _lock)
    return Applied(order)


def _trade_updates(
    order: Order,
    report: ExecutionReport,
    previous: str,
    fill: Execution | None,
    replaced: Order | None,
) -> None:
    """The account events of an applied report (one INSERT): a fill or partial fill
    with its execution, a bust or correction, the replaced order and its replacement,
    or the order's new status."""
    at = report.transact_time or report.received_at or timezone.now()
    changes = []
    if replaced is not None and replaced.pk != order.pk:
        changes.append(events.change(replaced, "replaced", at=at, replaced_by=order))
    position_qty = getattr(fill, "position_qty", None)
    if report.exec_trans_type in (CANCEL, CORRECT):
        kind = "trade_correct" if report.exec_trans_type == CORRECT else "trade_bust"
        changes.append(events.change(order, kind, at=at, execution=fill, position_qty=position_qty))
    elif fill is not None:
        kind = "fill" if order.filled_qty >= order.qty else "partial_fill"
        changes.append(events.change(order, kind, at=at, execution=fill, position_qty=position_qty))
    elif order.status != previous or changes:
        kind = events.STATUS_EVENT[order.status]
        if order.status == OrderStatus.EXPIRED and report.ord_status == "3":
            kind = "done_for_day"
        changes.append(events.change(order, kind, at=at))
    if changes:
        events.record(*changes)


def apply_execution_report(report: ExecutionReport) -> Order | None:
    """Apply one ExecutionReport once, in a transaction of its own; returns the order."""
    with transaction.atomic():
        return apply_report(report).order


def _set_hold(order: Order, reopened: bool = False) -> None:
    amount = _remaining_hold(order)
    if reopened and amount > 0:
        ledger.reinstate_hold(order.account, f"order:{order.pk}", amount)
    else:
        _adjust_hold(order, amount)


def _acknowledge(order: Order, report: ExecutionReport) -> Order:
    """ExecType New (150=0, 39=0): the engine has the order. Nothing is filled or
    released, so neither the account nor the hold is touched: only the order's row."""
    order = _lock(order, account=False)
    status = _next_status(order, OrderStatus.NEW)
    engine_id = report.order_id if report.order_id not in ("", "NONE") else ""
    if (
        status != order.status
        or order.submitted_at is None
        or (engine_id and not order.engine_order_id)
    ):
        changed = status != order.status
        order.status = status
        order.submitted_at = order.submitted_at or timezone.now()
        order.engine_order_id = order.engine_order_id or engine_id[:64]
        order.save(update_fields=["status", "submitted_at", "engine_order_id", "updated_at"])
        if changed:
            events.record(events.change(order, events.STATUS_EVENT[order.status]))
    return order


def _next_status(order: Order, reported: str, reopen: bool = False) -> str:
    """Never leave a final state (unless a bust reopens the order); "filled" only once
    every share is (fills may arrive after the report that says filled); while a cancel
    or replace is pending, a partial fill keeps it pending (the engine's answer to the
    request decides)."""
    if order.status in DONE and not (reopen and order.status == OrderStatus.FILLED):
        return order.status
    if order.filled_qty >= order.qty:
        return OrderStatus.FILLED
    if reported == OrderStatus.FILLED:
        reported = OrderStatus.PARTIALLY_FILLED if order.filled_qty else OrderStatus.NEW
    if order.status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE) and reported in (
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_NEW,
    ):
        return order.status
    if reported in (OrderStatus.NEW, OrderStatus.PENDING_NEW) and order.filled_qty:
        return OrderStatus.PARTIALLY_FILLED
    if reported == OrderStatus.PARTIALLY_FILLED and not order.filled_qty:
        return OrderStatus.NEW
    return reported


def _restore(order: Order, message: OutboxMessage | None) -> None:
    """A cancel or replace the engine refused: the order goes back to what its fills say
    (a partial fill may have come while the request was pending)."""
    if order.status not in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE):
        return
    if order.filled_qty >= order.qty:
        order.status = OrderStatus.FILLED
    elif order.filled_qty:
        order.status = OrderStatus.PARTIALLY_FILLED
    else:
        previous = message.payload.get("previous_status") if message else None
        order.status = (
            OrderStatus.PENDING_NEW if previous == OrderStatus.PENDING_NEW else OrderStatus.NEW
        )
    order.save(update_fields=["status", "updated_at"])


def _refuse_request(message: OutboxMessage | None, order: Order, text: str) -> None:
    """The engine refused a cancel or replace: the order as it was; a replacement order
    that will never exist is rejected and its hold released."""
    order = _lock(order)
    _restore(order, message)
    replacing = message is not None and message.kind == OutboxMessage.Kind.REPLACE
    changes = [
        events.change(order, "order_replace_rejected" if replacing else "order_cancel_rejected")
    ]
    if replacing and message.order_id != order.pk:
        replacement = _lock(message.order, account=False)
        if replacement.status not in DONE:
            replacement.status = OrderStatus.REJECTED
            replacement.reject_reason = (text or "Replace rejected by the routing engine")[:300]
            replacement.save(update_fields=["status", "reject_reason", "updated_at"])
            _adjust_hold(replacement, Decimal("0"))
            changes.append(events.change(replacement, "rejected"))
    events.record(*changes)


def apply_cancel_reject(
    cl_ord_id: str,
    orig_cl_ord_id: str,
    text: str = "",
    response_to: str = "1",
    session: str = "",
) -> Order | None:
    """OrderCancelReject (35=9): the order stays as it was before the request; a
    rejected replacement order is rejected and its hold released. `response_to` is
    CxlRejResponseTo (434): 1 = cancel, 2 = cancel/replace."""
    with transaction.atomic():
        return apply_cancel_reject_in(cl_ord_id, orig_cl_ord_id, text, response_to, session).order


def apply_cancel_reject_in(
    cl_ord_id: str, orig_cl_ord_id: str, text: str, response_to: str, session: str
) -> Applied:
    message = OutboxMessage.objects.filter(cl_ord_id=cl_ord_id).select_related("order").first()
    order = Order.objects.filter(cl_ord_id=orig_cl_ord_id).first()
    if order is None and message is not None:
        order = message.order if message.kind == OutboxMessage.Kind.CANCEL else None
    if order is None:
        raise Unapplicable(
            f"OrderCancelReject for unknown orders (ClOrdID {cl_ord_id!r}, "
            f"OrigClOrdID {orig_cl_ord_id!r})"
        )
    if not _log(
        f"9:{session or default_session()}:{cl_ord_id}",
        cl_ord_id,
        "cancel_reject",
        order,
        {"orig_cl_ord_id": orig_cl_ord_id, "text": text, "response_to": response_to},
    ):
        return Applied(order, duplicate=True)
    _answered(cl_ord_id)
    _refuse_request(message, order, text)
    log.warning(
        "Cancel/replace %s of order %s (ClOrdID %s) refused by the routing engine: %s",
        cl_ord_id,
        order.pk,
        order.cl_ord_id,
        text or "no reason given",
    )
    return Applied(Order.objects.get(pk=order.pk))


def apply_message_reject(
    *,
    kind: str,
    session: str,
    ref_seq_num: int | None,
    ref_msg_type: str,
    cl_ord_id: str,
    text: str,
) -> Applied:
    """A session Reject (35=3) or BusinessMessageReject (35=j) of an order message:
    a NewOrderSingle's order ends `rejected` (its hold released); a cancel or replace is
    refused (the order as it was). The message is found by ClOrdID (35=j's
    BusinessRejectRefID) or by the MsgSeqNum it went out with (RefSeqNum)."""
    session = session or default_session()
    message = None
    if cl_ord_id:
        message = OutboxMessage.objects.filter(cl_ord_id=cl_ord_id).first()

    def sent_as(seq: int | None) -> OutboxMessage | None:
        if seq is None:
            return None
        return (
            OutboxMessage.objects.filter(session=session, sent_seq_num=seq).order_by("-id").first()
        )

    message = message or sent_as(ref_seq_num)
    if message is None:
        if OutboxMessage.objects.filter(
            session=session, sent_at__isnull=True, claimed_until__gt=timezone.now()
        ).exists():
            raise NotYet(f"35={kind} of MsgSeqNum {ref_seq_num}: a batch is still being sent")
        # The gateway may have marked its batch sent between the two statements above.
        message = sent_as(ref_seq_num)
    if message is None:
        raise Unapplicable(
            f"35={kind} (RefSeqNum {ref_seq_num}, RefMsgType {ref_msg_type or '?'}, "
            f"ref {cl_ord_id or '-'}) names no order message we sent: {text}"
        )
    order = message.order
    if not _log(
        f"{kind}:{session}:{message.pk}",
        message.cl_ord_id,
        f"reject_{kind}",
        order,
        {"ref_seq_num": ref_seq_num, "ref_msg_type": ref_msg_type, "text": text},
    ):
        return Applied(order, duplicate=True)
    _answered(message.cl_ord_id)
    reason = f"Rejected by the routing engine: {text or 'no reason given'}"[:300]
    if message.kind == OutboxMessage.Kind.NEW_ORDER:
        order = _lock(order)
        if order.status not in DONE and not order.filled_qty:
            order.status = OrderStatus.REJECTED
            order.reject_reason = reason
            order.save(update_fields=["status", "reject_reason", "updated_at"])
            _adjust_hold(order, Decimal("0"))
            events.record(events.change(order, "rejected"))
            if order.group is not None:
                classes.after_change(order, False, _lock)
        log.warning(
            "Order %s (ClOrdID %s) rejected by the routing engine (35=%s): %s",
            order.pk,
            order.cl_ord_id,
            kind,
            text,
        )
        return Applied(order)
    original = Order.objects.filter(cl_ord_id=message.payload.get("orig_cl_ord_id", "")).first()
    target = original or order
    _refuse_request(message, target, reason)
    log.warning(
        "%s %s of order %s rejected by the routing engine (35=%s): %s",
        message.get_kind_display(),
        message.cl_ord_id,
        target.pk,
        kind,
        text,
    )
    return Applied(Order.objects.get(pk=target.pk))
