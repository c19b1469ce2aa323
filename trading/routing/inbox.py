"""The gateway's inbox: every message from the routing engine is stored as it came (one
INSERT, committed before QuickFIX counts it as received), then applied by the applier,
in receive order, many per transaction.

A message that cannot be applied (malformed, an unknown ClOrdID, a fill past the order's
quantity, a reject naming no message we sent, a message type we do not handle) is parked
with its reason: a WARNING log line names it, staff see it in admin (and can apply it
again once the cause is fixed), and the messages after it go on. Killing the applier
mid-batch loses nothing: the batch's transaction rolls back and the rows are still
`received`.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone

from accounts.money import ledger
from trading.orders import executions
from trading.orders.executions import NotYet, Unapplicable
from trading.routing import fix
from trading.routing.fix import Tag
from trading.routing.models import InboundMessage

log = logging.getLogger(__name__)

ORDER_MESSAGES = {"D", "F", "G"}
NOTIFY_CHANNEL = "rushtrade_inbox"  # PostgreSQL NOTIFY: a message was stored (payload: session)


def store(
    *, session: str, raw: str, received_at: datetime | None = None
) -> tuple[int, dict[int, str]]:
    """Store a received message (autocommit: one statement); returns its id and fields.
    A message too malformed to read its header is stored all the same (parked later)."""
    try:
        fields = fix.parse_fields(raw)
    except ValueError:
        fields = {}
    table = InboundMessage._meta.db_table
    seq = fields.get(int(Tag.MSG_SEQ_NUM), "0")
    insert = (
        f"INSERT INTO {table} (session, msg_seq_num, msg_type, poss_dup, raw, "  # noqa: S608
        "received_at, state, reason, cl_ord_id, attempts) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, '', %s, 0) RETURNING id"
    )
    notify = connection.vendor == "postgresql"
    if notify:  # wakes an applier of its own process (LISTEN) at commit: same statement
        insert = f"WITH stored AS ({insert}) SELECT id, pg_notify(%s, %s) FROM stored"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            insert,
            [
                session,
                int(seq) if seq.isdigit() else 0,
                fields.get(int(Tag.MSG_TYPE), "?")[:4],
                fields.get(int(Tag.POSS_DUP_FLAG)) == "Y",
                raw,
                received_at or timezone.now(),
                InboundMessage.State.RECEIVED,
                (
                    fields.get(int(Tag.CL_ORD_ID))
                    or fields.get(int(Tag.BUSINESS_REJECT_REF_ID))
                    or ""
                )[:64],
            ]
            + ([NOTIFY_CHANNEL, session] if notify else []),
        )
        return cursor.fetchone()[0], fields


def stored_before(*, session: str, row_id: int, fields: dict[int, str]) -> bool:
    """Whether an earlier copy of this resent message (PossDupFlag=Y) is in the inbox:
    same session, MsgSeqNum and type, first sent at this copy's OrigSendingTime (an
    earlier copy's own OrigSendingTime, or its SendingTime when it was the first);
    sequence numbers start again each FIX session day, so the number alone is not
    enough. Without OrigSendingTime any earlier copy of the number and type counts."""
    original = fields.get(int(Tag.ORIG_SENDING_TIME))
    earlier = InboundMessage.objects.filter(
        session=session,
        msg_seq_num=int(fields.get(int(Tag.MSG_SEQ_NUM), "0") or 0),
        msg_type=fields.get(int(Tag.MSG_TYPE), "?")[:4],
        id__lt=row_id,
    ).values_list("raw", flat=True)
    for raw in earlier:
        if original is None:
            return True
        try:
            first = fix.parse_fields(raw)
        except ValueError:
            continue
        sent = first.get(int(Tag.ORIG_SENDING_TIME)) or first.get(int(Tag.SENDING_TIME))
        if sent == original:
            return True
    return False


def _int(value: str | None) -> int:
    if value in (None, ""):
        return 0
    number = Decimal(value)
    if number != number.to_integral_value() or number < 0:
        raise ValueError(f"not a whole number of shares: {value!r}")
    return int(number)


def _decimal(value: str | None) -> Decimal:
    return Decimal(value) if value not in (None, "") else Decimal("0")


def execution_report(
    fields: dict[int, str], *, session: str, received_at: datetime
) -> executions.ExecutionReport:
    """The portal's view of an ExecutionReport's fields; ValueError when malformed."""
    f, r = fix.field, fix.required
    try:
        return executions.ExecutionReport(
            exec_id=r(fields, Tag.EXEC_ID),
            cl_ord_id=f(fields, Tag.CL_ORD_ID, "") or "",
            exec_type=r(fields, Tag.EXEC_TYPE),
            ord_status=r(fields, Tag.ORD_STATUS),
            orig_cl_ord_id=f(fields, Tag.ORIG_CL_ORD_ID, "") or "",
            order_id=f(fields, Tag.ORDER_ID, "") or "",
            last_qty=_int(f(fields, Tag.LAST_SHARES)),
            last_px=_decimal(f(fields, Tag.LAST_PX)),
            cum_qty=_int(f(fields, Tag.CUM_QTY)),
            leaves_qty=_int(f(fields, Tag.LEAVES_QTY)),
            avg_px=_decimal(f(fields, Tag.AVG_PX)),
            text=f(fields, Tag.TEXT, "") or "",
            transact_time=fix.utc_time(f(fields, Tag.TRANSACT_TIME)),
            exec_trans_type=f(fields, Tag.EXEC_TRANS_TYPE, executions.NEW) or executions.NEW,
            exec_ref_id=f(fields, Tag.EXEC_REF_ID, "") or "",
            session=session,
            poss_dup=f(fields, Tag.POSS_DUP_FLAG) == "Y",
            received_at=received_at,
        )
    except InvalidOperation:
        raise ValueError("a price or quantity is not a number") from None


@dataclass
class Outcome:
    state: str
    reason: str = ""
    order_id: int | None = None


def _ignored(row: InboundMessage, why: str) -> Outcome:
    log.warning(
        "Inbound FIX message %s (35=%s) from %s: %s", row.pk, row.msg_type, row.session, why
    )
    return Outcome(InboundMessage.State.IGNORED, why)


def _reject(row: InboundMessage, fields: dict[int, str]) -> Outcome:
    """35=3 or 35=j: it ends an order message of ours, or is logged and kept."""
    ref_type = fix.field(fields, Tag.REF_MSG_TYPE, "") or ""
    ref_seq = fix.field(fields, Tag.REF_SEQ_NUM)
    text = fix.field(fields, Tag.TEXT, "") or ""
    ref_id = fix.field(fields, Tag.BUSINESS_REJECT_REF_ID, "") or ""
    if ref_type not in ORDER_MESSAGES and not (row.msg_type == "j" and ref_id and not ref_type):
        return _ignored(
            row, f"35={row.msg_type} of a 35={ref_type or '?'} (RefSeqNum {ref_seq}): {text}"
        )
    applied = executions.apply_message_reject(
        kind=row.msg_type,
        session=row.session,
        ref_seq_num=int(ref_seq) if ref_seq and ref_seq.isdigit() else None,
        ref_msg_type=ref_type,
        cl_ord_id=ref_id,
        text=text,
    )
    return _outcome(applied)


def _outcome(applied: executions.Applied) -> Outcome:
    state = InboundMessage.State.DUPLICATE if applied.duplicate else InboundMessage.State.APPLIED
    return Outcome(state, order_id=applied.order.pk if applied.order else None)


def apply_message(row: InboundMessage, fields: dict[int, str] | None = None) -> Outcome:
    """Apply one stored message (in the caller's transaction); raises Unapplicable or
    ValueError for one to park."""
    fields = fix.parse_fields(row.raw) if fields is None else fields
    kind = fix.required(fields, Tag.MSG_TYPE)
    if kind == "8":
        report = execution_report(fields, session=row.session, received_at=row.received_at)
        return _outcome(executions.apply_report(report))
    if kind == "9":
        applied = executions.apply_cancel_reject_in(
            fix.required(fields, Tag.CL_ORD_ID),
            fix.field(fields, Tag.ORIG_CL_ORD_ID, "") or "",
            fix.field(fields, Tag.TEXT, "") or "",
            fix.field(fields, Tag.CXL_REJ_RESPONSE_TO, "1") or "1",
            row.session,
        )
        return _outcome(applied)
    if kind in ("3", "j"):
        return _reject(row, fields)
    raise Unapplicable(f"message type 35={kind} is not one the gateway handles")


def apply_pending(session: str, limit: int = 200) -> int:
    """Apply up to `limit` received messages of `session`, oldest first, in one
    transaction. Rows another applier holds are skipped. Returns how many were handled.

    First the fast way: the whole batch with no savepoint per message and its writes in
    bulk (executions.batch(deferred=True)). If any message fails (one to park, one that
    must wait, or anything unexpected), that transaction is rolled back and the batch is
    applied again the careful way: each message in a savepoint, so one that fails is
    parked alone. Either way the outcome is the same; the warnings of a rolled-back
    attempt are dropped, not logged twice."""
    try:
        with held_log_records() as records, transaction.atomic():
            handled = _take_and_apply(session, limit, fast=True)
    except Exception as exc:  # the careful way decides (and raises what is not one row's)
        log.debug("Inbox batch of %s applied the careful way: %r", session, exc)
        with transaction.atomic():
            return _take_and_apply(session, limit, fast=False)
    for record in records:
        logging.getLogger(record.name).handle(record)
    return handled


def _take_and_apply(session: str, limit: int, *, fast: bool) -> int:
    rows = list(
        InboundMessage.objects.select_for_update(skip_locked=True)
        .filter(session=session, state=InboundMessage.State.RECEIVED)
        .order_by("id")[:limit]
    )
    if not rows:
        return 0
    now = timezone.now()
    parsed = [(row, _fields(row)) for row in rows]
    names, money = _names(parsed)
    handled = (_apply_fast if fast else _apply_careful)(parsed, names, money, now)
    InboundMessage.objects.bulk_update(
        handled, ["state", "reason", "order", "applied_at", "attempts"], batch_size=500
    )
    return len(handled)


def _fields(row: InboundMessage) -> dict[int, str] | None:
    try:
        return fix.parse_fields(row.raw)
    except ValueError:
        return None  # parked by apply_message, which says why


def _names(parsed) -> tuple[set[str], set[str]]:
    """The ClOrdIDs the messages name, and those of messages that may move money (all
    but an ExecutionReport that only acknowledges an order)."""
    names, money = set(), set()
    for _, fields in parsed:
        if not fields:
            continue
        ids = [fields.get(int(tag), "") for tag in ORDER_TAGS]
        names.update(ids)
        if not _acknowledgement(fields):
            money.update(ids)
    return names, money


ORDER_TAGS = (Tag.CL_ORD_ID, Tag.ORIG_CL_ORD_ID, Tag.BUSINESS_REJECT_REF_ID)


def _acknowledgement(fields: dict[int, str]) -> bool:
    return (
        fields.get(int(Tag.MSG_TYPE)) == "8"
        and fields.get(int(Tag.EXEC_TYPE)) == "0"
        and fields.get(int(Tag.ORD_STATUS)) == "0"
        and fields.get(int(Tag.EXEC_TRANS_TYPE), executions.NEW) == executions.NEW
        and fields.get(int(Tag.LAST_SHARES), "0") in ("0", "")
    )


def _apply_fast(parsed, names, money, now) -> list[InboundMessage]:
    handled = []
    with (
        executions.batch(names, money, deferred=True),
        ledger.deferred_balances(),
    ):
        for row, fields in parsed:
            if fields is None:
                raise ValueError("malformed")
            _done(row, apply_message(row, fields), now)
            handled.append(row)
    return handled


def _apply_careful(parsed, names, money, now) -> list[InboundMessage]:
    handled = []
    with executions.batch(names, money), ledger.deferred_balances() as pending:
        for row, fields in parsed:
            if not _apply_row(row, fields, pending, now):
                break  # it and the rows after it wait for the next batch, in order
            handled.append(row)
    return handled


def _done(row: InboundMessage, outcome: Outcome, now) -> None:
    row.state, row.reason = outcome.state, outcome.reason
    row.order_id = outcome.order_id or row.order_id
    row.applied_at = now
    row.attempts += 1


def _apply_row(row: InboundMessage, fields, pending: dict, now) -> bool:
    """Apply one row in a savepoint; park it (and forget its ledger sums) if it fails.
    False if it must wait (it names a message whose sending is not recorded yet)."""
    before = dict(pending)
    try:
        with transaction.atomic():
            if fields is None:
                fix.parse_fields(row.raw)  # raises the ValueError that says why
            outcome = apply_message(row, fields)
    except NotYet:
        pending.clear()
        pending.update(before)
        return False
    except (Unapplicable, ValueError, KeyError) as exc:
        pending.clear()
        pending.update(before)
        outcome = Outcome(InboundMessage.State.PARKED, str(exc)[:2000])
        log.warning(
            "Parked inbound FIX message %s (35=%s, ClOrdID %s, MsgSeqNum %s): %s",
            row.pk,
            row.msg_type,
            row.cl_ord_id or "-",
            row.msg_seq_num,
            exc,
        )
    _done(row, outcome, now)
    return True


# While the fast attempt runs, the warnings of this module and of executions are held:
# logged once it succeeds, dropped if it is rolled back (the careful way logs them).
_held: ContextVar[list | None] = ContextVar("inbox_held_log_records", default=None)


class _HoldRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        held = _held.get()
        if held is None:
            return True
        held.append(record)
        return False


@contextmanager
def held_log_records():
    records: list[logging.LogRecord] = []
    token = _held.set(records)
    try:
        yield records
    finally:
        _held.reset(token)


for _logger in (log, executions.log):
    _logger.addFilter(_HoldRecords())


def retry(rows) -> int:
    """Put parked messages back in line (staff, once the cause is fixed)."""
    return rows.filter(state=InboundMessage.State.PARKED).update(
        state=InboundMessage.State.RECEIVED, reason=""
    )


def lag_seconds(session: str | None = None) -> float:
    """How long the oldest message still to apply has waited (0 when none waits)."""
    waiting = InboundMessage.objects.filter(state=InboundMessage.State.RECEIVED)
    if session:
        waiting = waiting.filter(session=session)
    oldest = waiting.order_by("id").values_list("received_at", flat=True).first()
    return max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0
