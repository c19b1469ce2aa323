"""The routing gateway: holds the FIX 4.2 initiator session to the routing engine,
sends the outbox in order, and applies what comes back (see docs/order-lifecycle.md).

Nothing is lost and nothing is applied twice:
- An outbox row is counted (send_attempts) before it is sent and marked sent after;
  QuickFIX stores each message before it writes it to the socket, and FIX resend
  covers the wire. A row sent but not marked (a crash in between) goes again after a
  restart with PossResend=Y; a standard engine recognises the ClOrdID.
- An incoming ExecutionReport or OrderCancelReject is applied in a database
  transaction that commits before `fromApp` returns; QuickFIX counts the message as
  received only then, so a crash before the commit gets the message resent at logon,
  and the ExecID log turns a second delivery into a no-op.
- Rows wait unsent while the engine is unreachable and go in order when it is back.
"""

import logging
import queue
import threading
import time

import quickfix as qf
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import F
from django.utils import timezone

from trading.orders import executions
from trading.orders.models import Order, OutboxMessage
from trading.routing import fix

log = logging.getLogger(__name__)


def gateway_config(**overrides) -> dict[str, str]:
    params = {
        "host": settings.ROUTING_ENGINE_HOST,
        "port": settings.ROUTING_ENGINE_PORT,
        "sender_comp_id": settings.FIX_SENDER_COMP_ID,
        "target_comp_id": settings.FIX_TARGET_COMP_ID,
        "heartbeat_interval": settings.FIX_HEARTBEAT_INTERVAL,
        "store_path": str(settings.FIX_STORE_DIR / "gateway"),
        "log_path": str(settings.FIX_LOG_DIR / "gateway"),
        "reconnect_interval": settings.FIX_RECONNECT_INTERVAL,
    } | overrides
    return fix.session_config("initiator", **params)


def to_portal(report: fix.ExecutionReport) -> executions.ExecutionReport:
    return executions.ExecutionReport(
        exec_id=report.exec_id,
        cl_ord_id=report.cl_ord_id or "",
        exec_type=str(report.exec_type),
        ord_status=str(report.ord_status),
        orig_cl_ord_id=report.orig_cl_ord_id or "",
        order_id=report.order_id,
        last_qty=int(report.last_shares or 0),
        last_px=report.last_px or 0,
        cum_qty=int(report.cum_qty),
        leaves_qty=int(report.leaves_qty),
        avg_px=report.avg_px,
        text=report.text or "",
    )


def build_message(row: OutboxMessage) -> qf.Message:
    order = row.order
    p = row.payload
    common = {
        "cl_ord_id": row.cl_ord_id,
        "symbol": p["symbol"],
        "side": p["side"],
        "account": order.account.account_number,
    }
    if row.kind == OutboxMessage.Kind.NEW_ORDER:
        return fix.new_order_single(
            **common,
            quantity=p["qty"],
            order_type=p["order_type"],
            limit_price=_dec(p.get("limit_price")),
            stop_price=_dec(p.get("stop_price")),
            time_in_force=p["time_in_force"],
        )
    if row.kind == OutboxMessage.Kind.CANCEL:
        return fix.order_cancel_request(
            **common, orig_cl_ord_id=p["orig_cl_ord_id"], quantity=p["qty"]
        )
    return fix.order_cancel_replace_request(
        **common,
        orig_cl_ord_id=p["orig_cl_ord_id"],
        quantity=p["qty"],
        order_type=p["order_type"],
        limit_price=_dec(p.get("limit_price")),
        stop_price=_dec(p.get("stop_price")),
        time_in_force=p["time_in_force"],
    )


def _dec(value):
    from decimal import Decimal

    return None if value in (None, "") else Decimal(value)


class DatabaseThread:
    """One long-lived thread, with one database connection, that runs the database work
    of QuickFIX callbacks: each callback has a fresh Python thread state, so Django would
    open (and must close) a connection per message. The callback waits for the work, so
    it is committed before QuickFIX counts the message as received."""

    def __init__(self, name: str) -> None:
        self.jobs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def call(self, func, *args):
        done, box = threading.Event(), {}
        self.jobs.put((func, args, done, box))
        done.wait()
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join(10)

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            func, args, done, box = job
            try:
                close_old_connections()
                box["result"] = func(*args)
            except BaseException as exc:  # handed back to the waiting callback
                box["error"] = exc
            finally:
                done.set()
        connections.close_all()


class Gateway(fix.Application):
    def __init__(self) -> None:
        super().__init__()
        # Our own SessionID (set by run() from the config): QuickFIX's callback arguments
        # are valid only during the call.
        self.session_id: qf.SessionID | None = None
        self.logged_on = threading.Event()
        self.db = DatabaseThread("gateway-db")

    def on_logon(self, session_id):
        self.logged_on.set()
        log.info("FIX session %s logged on", session_id)

    def on_logout(self, session_id):
        self.logged_on.clear()
        log.warning("FIX session %s logged out: orders wait in the outbox", session_id)

    def from_app(self, message, session_id):
        kind = fix.msg_type(message)
        if kind == fix.MsgType.EXECUTION_REPORT:
            report = to_portal(fix.read_execution_report(message))
            self.db.call(executions.apply_execution_report, report)
        elif kind == fix.MsgType.ORDER_CANCEL_REJECT:
            reject = fix.read_cancel_reject(message)
            self.db.call(
                executions.apply_cancel_reject,
                reject.cl_ord_id,
                reject.orig_cl_ord_id,
                reject.text or "",
                reject.response_to,
            )
        else:
            raise qf.UnsupportedMessageType()

    def send_pending(self, limit: int = 200) -> int:
        """Send unsent outbox rows, oldest first, while logged on; returns how many.
        A batch costs four statements whatever its size: read, count the attempt, and
        after sending, mark the rows sent and the new orders submitted."""
        if not self.logged_on.is_set() or self.session_id is None:
            return 0
        rows = list(
            OutboxMessage.objects.filter(sent_at__isnull=True)
            .select_related("order__account")
            .order_by("id")[:limit]
        )
        if not rows:
            return 0
        OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
            send_attempts=F("send_attempts") + 1
        )
        sent = []
        for row in rows:
            if not self.logged_on.is_set():
                break
            message = build_message(row)
            if row.send_attempts:  # tried before: it may have gone out
                fix.mark_poss_resend(message)
            fix.send(message, self.session_id)  # stored by QuickFIX even if the link drops
            sent.append(row)
        if sent:
            now = timezone.now()
            with transaction.atomic():
                OutboxMessage.objects.filter(pk__in=[row.pk for row in sent]).update(sent_at=now)
                Order.objects.filter(
                    pk__in=[r.order_id for r in sent if r.kind == OutboxMessage.Kind.NEW_ORDER],
                    submitted_at__isnull=True,
                ).update(submitted_at=now)
        return len(sent)


def serve(stop: threading.Event, gateway: Gateway, *, poll_seconds: float = 0.02) -> None:
    """Send the outbox while the session is up, until `stop` is set."""
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                busy = gateway.send_pending()
            except Exception:
                log.exception("sending the outbox failed; retrying")
                connections.close_all()
                busy = 0
            if not busy:
                stop.wait(poll_seconds)
    finally:
        connections.close_all()


def start_engine(gateway: Gateway, config=None) -> fix.Engine:
    config = config or gateway_config()
    gateway.session_id = fix.session_id_of(config)
    engine = fix.Engine(gateway, fix.build_session_settings(config))
    engine.start()
    return engine


def run(stop: threading.Event, *, config=None, gateway: Gateway | None = None) -> None:
    """Hold the session and send the outbox until `stop` is set (manage.py run_gateway)."""
    gateway = gateway or Gateway()
    engine = start_engine(gateway, config)
    try:
        serve(stop, gateway)
    finally:
        engine.close()
        gateway.db.close()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
