"""The routing gateway: holds a FIX 4.2 initiator session to the routing engine, sends
the outbox of its share of the accounts, stores what comes back in the inbox, and applies
the inbox (see docs/order-lifecycle.md).

Nothing is lost, nothing is applied twice, nothing waits unseen:
- Sending: a batch of outbox rows is taken with SELECT ... FOR UPDATE SKIP LOCKED and
  claimed for FIX_CLAIM_SECONDS (send_attempts counted) in one transaction, then sent;
  each row records the MsgSeqNum it went out with (a session Reject names it) and is
  marked sent. A row claimed but not marked (a crash in between) is taken again after
  the claim runs out, or at once by the same session, and goes with PossResend=Y; a
  standard engine recognises the ClOrdID. Two gateways never send the same row.
- Receiving: every application message, and every session Reject (35=3), is stored in
  the inbox by one INSERT that commits before `fromApp`/`fromAdmin` returns: QuickFIX
  counts a message as received only then, so a crash before it gets the message resent.
  The gateway never answers a Reject or a BusinessMessageReject; another message type
  it does not handle is stored, parked and answered once (BusinessMessageReject).
- Applying: the applier thread applies the inbox in receive order, many messages per
  transaction, each exactly once (executions.py keys them by their identity).
- Asking: an order message unanswered for FIX_STATUS_REQUEST_AFTER seconds is asked about
  with an OrderStatusRequest (35=H), and so is every open order after each logon; one
  still unanswered after FIX_UNANSWERED_AFTER is a WARNING, listed in admin and makes
  /healthz say "degraded".
- Rows wait unsent while the engine is unreachable and go in order when it is back.
"""

import logging
import queue
import threading
import time
from datetime import timedelta

import quickfix as qf
from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Mod
from django.utils import timezone

from trading.orders.models import OPEN_STATUSES, Order, OutboxMessage
from trading.routing import fix, inbox
from trading.routing.models import RoutingSession

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
        "validate_incoming": False,  # store everything; the applier judges it
    } | overrides
    return fix.session_config("initiator", **params)


def session_name(config) -> str:
    """How the portal names a session: our SenderCompID -> the engine's."""
    return f"{config['SenderCompID']}->{config['TargetCompID']}"


def parse_partition(text: str) -> tuple[int, int]:
    """ "k/n" -> (k, n): this gateway sends for the accounts whose id % n == k."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"FIX_PARTITION must be k/n, e.g. 0/2, not {text!r}") from None
    if not (n >= 1 and 0 <= k < n):
        raise ValueError(f"FIX_PARTITION {text!r}: need 0 <= k < n")
    return k, n


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
    """One FIX session to the routing engine and the share of the accounts it routes."""

    def __init__(self, *, partition: str | None = None) -> None:
        super().__init__()
        # Set by start_engine() from the config: QuickFIX's callback arguments are valid
        # only during the call.
        self.session_id: qf.SessionID | None = None
        self.session = ""
        self.partition = parse_partition(partition or settings.FIX_PARTITION)
        self.logged_on = threading.Event()
        self.ask_open_orders = threading.Event()  # set at each logon
        self.received = threading.Event()  # wakes the applier
        self.db = DatabaseThread("gateway-db")
        self._sent_seq: dict[str, int] = {}  # ClOrdID -> MsgSeqNum, filled by to_app

    # --- QuickFIX callbacks (QuickFIX's thread) ---------------------------------------

    def on_logon(self, session_id):
        self.logged_on.set()
        self.ask_open_orders.set()
        self.db.call(self._record_session, True)
        log.info("FIX session %s logged on", self.session)

    def on_logout(self, session_id):
        was = self.logged_on.is_set()
        self.logged_on.clear()
        self.db.call(self._record_session, False)
        if was:
            log.warning("FIX session %s logged out: orders wait in the outbox", self.session)

    def to_app(self, message, session_id):
        # Called in the sending thread by sendToTarget (and by QuickFIX for a resend,
        # PossDupFlag=Y, which keeps the MsgSeqNum recorded the first time).
        header = message.getHeader()
        if header.isSetField(int(fix.Tag.POSS_DUP_FLAG)):
            return
        if message.isSetField(int(fix.Tag.CL_ORD_ID)):
            cl_ord_id = message.getField(int(fix.Tag.CL_ORD_ID))
            self._sent_seq[cl_ord_id] = int(header.getField(int(fix.Tag.MSG_SEQ_NUM)))

    def from_app(self, message, session_id):
        raw = fix.raw_text(message)
        row_id, fields = self.db.call(self._store, raw)
        self.received.set()
        if fields.get(int(fix.Tag.MSG_TYPE), "") in ("8", "9", "j"):
            return
        # Another type is stored, parked by the applier and answered once with a
        # BusinessMessageReject (a Reject or BusinessMessageReject is never answered).
        # A resent copy (PossDupFlag=Y) is answered too unless an earlier copy was
        # stored: the engine resends what we never received, e.g. a message it sent
        # while its side of the logon was not finished.
        if fields.get(int(fix.Tag.POSS_DUP_FLAG)) == "Y" and self.db.call(
            self._stored_before, row_id, fields
        ):
            return
        raise qf.UnsupportedMessageType()

    def from_admin(self, message, session_id):
        kind = fix.msg_type(message)
        if kind == fix.MsgType.REJECT:
            self.db.call(self._store, fix.raw_text(message))
            self.received.set()
        elif kind == "5" and message.isSetField(int(fix.Tag.TEXT)):
            log.warning(
                "FIX session %s: the engine logs out: %s",
                self.session,
                message.getField(int(fix.Tag.TEXT)),
            )

    def _store(self, raw: str):
        return inbox.store(session=self.session, raw=raw)

    def _stored_before(self, row_id: int, fields: dict[int, str]) -> bool:
        return inbox.stored_before(session=self.session, row_id=row_id, fields=fields)

    def _record_session(self, logged_on: bool) -> None:
        now = timezone.now()
        k, n = self.partition
        values = {"logged_on": logged_on, "heartbeat_at": now, "partition": f"{k}/{n}"}
        values["logged_on_at" if logged_on else "logged_out_at"] = now
        RoutingSession.objects.update_or_create(session=self.session, defaults=values)

    # --- sending (the serve loop's thread) ----------------------------------------------

    def _mine(self, rows):
        k, n = self.partition
        if n == 1:
            return rows
        return rows.annotate(partition_key=Mod("order__account_id", n)).filter(partition_key=k)

    def _claim(self, limit: int) -> list[OutboxMessage]:
        """Take up to `limit` unsent rows of this gateway's accounts, oldest first: rows
        locked by another gateway are skipped, and the claim keeps them from being taken
        again while this one sends."""
        now = timezone.now()
        with transaction.atomic():
            rows = list(
                self._mine(
                    OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(sent_at__isnull=True)
                    .filter(
                        Q(claimed_until__isnull=True)
                        | Q(claimed_until__lt=now)
                        | Q(session=self.session)
                    )
                )
                .select_related("order__account")
                .order_by("id")[:limit]
            )
            if rows:
                OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
                    send_attempts=F("send_attempts") + 1,
                    claimed_until=now + timedelta(seconds=settings.FIX_CLAIM_SECONDS),
                    session=self.session,
                )
        return rows

    def send_pending(self, limit: int = 200) -> int:
        """Send unsent outbox rows of this gateway's accounts, oldest first, while logged
        on; returns how many went. Five statements a batch whatever its size."""
        if not self.logged_on.is_set() or self.session_id is None:
            return 0
        rows = self._claim(limit)
        sent = []
        for row in rows:
            if not self.logged_on.is_set():
                break
            message = build_message(row)
            if row.send_attempts:  # tried before: it may have gone out
                fix.mark_poss_resend(message)
            fix.send(message, self.session_id)  # stored by QuickFIX even if the link drops
            row.sent_seq_num = self._sent_seq.pop(row.cl_ord_id, None)
            sent.append(row)
        if sent:
            now = timezone.now()
            for row in sent:
                row.sent_at = now
            sent.sort(key=lambda r: r.pk)  # locked in id order, as the applier marks answers
            with transaction.atomic():
                OutboxMessage.objects.bulk_update(sent, ["sent_at", "sent_seq_num"])
                _mark_submitted(
                    [r.order_id for r in sent if r.kind == OutboxMessage.Kind.NEW_ORDER], now
                )
        return len(sent)

    def _ask(self, order: Order, cl_ord_id: str) -> None:
        fix.send(
            fix.order_status_request(
                cl_ord_id=cl_ord_id,
                symbol=order.security.symbol,
                side=order.side,
                order_id=order.engine_order_id or None,
            ),
            self.session_id,
        )
        self._sent_seq.pop(cl_ord_id, None)  # only order messages' numbers are kept

    def ask_about_open_orders(self) -> int:
        """After a logon: ask the engine about every open order this session sent."""
        orders = (
            Order.objects.filter(
                status__in=OPEN_STATUSES,
                outbox__session=self.session,
                outbox__kind=OutboxMessage.Kind.NEW_ORDER,
                outbox__sent_at__isnull=False,
            )
            .select_related("security")
            .distinct()
        )
        count = 0
        for order in orders.iterator(chunk_size=500):
            if not self.logged_on.is_set():
                break
            self._ask(order, order.cl_ord_id)
            count += 1
        if count:
            log.info("FIX session %s: asked about %d open orders after logon", self.session, count)
        return count

    def ask_about_unanswered(self, now=None) -> int:
        """Ask about order messages the engine has not answered in time; report those
        still unanswered after FIX_UNANSWERED_AFTER (once each, WARNING)."""
        now = now or timezone.now()
        asked = 0
        due = now - timedelta(seconds=settings.FIX_STATUS_REQUEST_AFTER)
        waiting = OutboxMessage.objects.filter(
            session=self.session, sent_at__lt=due, answered_at__isnull=True
        )
        rows = list(
            waiting.filter(Q(status_requested_at__isnull=True) | Q(status_requested_at__lt=due))
            .select_related("order__security")
            .order_by("id")[:200]
        )
        for row in rows:
            if not self.logged_on.is_set():
                break
            target = row.cl_ord_id
            if row.kind != OutboxMessage.Kind.NEW_ORDER:
                target = row.payload.get("orig_cl_ord_id") or row.order.cl_ord_id
            self._ask(row.order, target)
            asked += 1
        if asked:
            OutboxMessage.objects.filter(pk__in=[r.pk for r in rows[:asked]]).update(
                status_requested_at=now
            )
        late = now - timedelta(seconds=settings.FIX_UNANSWERED_AFTER)
        for row in waiting.filter(sent_at__lt=late, unanswered_reported_at__isnull=True):
            log.warning(
                "Order message %s (ClOrdID %s, order %s) unanswered by the routing engine since %s",
                row.get_kind_display(),
                row.cl_ord_id,
                row.order_id,
                row.sent_at.isoformat(),
            )
            OutboxMessage.objects.filter(pk=row.pk).update(unanswered_reported_at=now)
        return asked

    def heartbeat(self) -> None:
        """Tell the admin page and /healthz this gateway is alive, and where the sequence
        numbers are."""
        values = {"heartbeat_at": timezone.now(), "logged_on": self.logged_on.is_set()}
        if self.session_id is not None:
            try:
                values["next_sender_seq_num"] = fix.next_sender_seq_num(self.session_id)
                values["next_target_seq_num"] = fix.next_target_seq_num(self.session_id)
            except Exception:  # noqa: S110 (the session may be gone while stopping)
                pass
        RoutingSession.objects.update_or_create(session=self.session, defaults=values)


class InboxListener:
    """Wakes an applier in a process of its own when the gateway stores a message:
    PostgreSQL LISTEN on a connection of its own (inbox.store NOTIFYs in the INSERT's
    statement). Elsewhere (SQLite) it only waits, and the applier looks again."""

    def __init__(self) -> None:
        self.conn = None
        if connection.vendor == "postgresql":
            self.conn = connection.Database.connect(
                **connection.get_connection_params(), autocommit=True
            )
            self.conn.execute(f"LISTEN {inbox.NOTIFY_CHANNEL}")

    def wait(self, seconds: float, stop: threading.Event) -> None:
        if self.conn is None:
            stop.wait(min(seconds, 0.1))
            return
        deadline = time.monotonic() + seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            # In steps of a second at most, so that a stop is seen soon.
            if any(True for _ in self.conn.notifies(timeout=min(left, 1.0), stop_after=1)):
                break
        for _ in self.conn.notifies(timeout=0):  # one wake for all that came meanwhile
            pass

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _mark_submitted(order_ids: list[int], now) -> None:
    """When the orders went to the engine. An order the applier holds (its answer is
    being applied, which sets submitted_at too) is skipped rather than waited for: the
    sending loop never waits on the applier, and the two never deadlock."""
    if not order_ids:
        return
    if connection.vendor != "postgresql":  # SQLite: one writer at a time anyway
        Order.objects.filter(pk__in=order_ids, submitted_at__isnull=True).update(submitted_at=now)
        return
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET submitted_at = %s WHERE id IN (SELECT id FROM {table} "  # noqa: S608
            "WHERE id = ANY(%s) AND submitted_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED)",
            [now, order_ids],
        )


def apply_inbox(
    stop: threading.Event,
    gateway: "Gateway | None" = None,
    *,
    session: str | None = None,
    batch: int = 200,
    idle_seconds: float = 0.5,
) -> None:
    """The applier: apply a session's inbox as it fills, until `stop` is set. In the
    gateway's process the gateway wakes it when a message arrives; on its own
    (`run_gateway --applier-only`) PostgreSQL's NOTIFY does (InboxListener), and it
    looks anyway every `idle_seconds`."""
    session = session or gateway.session
    wake = gateway.received if gateway else None
    listener = None
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                if wake is None and listener is None:
                    listener = InboxListener()
                done = inbox.apply_pending(session, limit=batch)
            except Exception:
                log.exception("applying the inbox failed; retrying")
                connections.close_all()
                if listener is not None:
                    listener.close()
                    listener = None
                done = 0
                stop.wait(1)
            if done or stop.is_set():
                continue
            if wake is not None:
                wake.wait(idle_seconds)
                wake.clear()
            elif listener is not None:
                listener.wait(idle_seconds, stop)
    finally:
        if listener is not None:
            listener.close()
        connections.close_all()


def serve(stop: threading.Event, gateway: Gateway, *, poll_seconds: float = 0.02) -> None:
    """Send the outbox while the session is up, ask about what waits too long, until
    `stop` is set."""
    next_housekeeping = 0.0
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                if gateway.ask_open_orders.is_set() and gateway.logged_on.is_set():
                    gateway.ask_open_orders.clear()
                    gateway.ask_about_open_orders()
                busy = gateway.send_pending()
                if time.monotonic() >= next_housekeeping:
                    next_housekeeping = time.monotonic() + 1.0
                    if gateway.logged_on.is_set():
                        gateway.ask_about_unanswered()
                    gateway.heartbeat()
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
    gateway.session = session_name(config)
    engine = fix.Engine(gateway, fix.build_session_settings(config))
    engine.start()
    return engine


def run(
    stop: threading.Event,
    *,
    config=None,
    gateway: Gateway | None = None,
    applier: bool = True,
) -> None:
    """Hold the session, send the outbox and (unless `applier` is False: another
    process applies it) apply the inbox until `stop` is set (manage.py run_gateway)."""
    gateway = gateway or Gateway()
    engine = start_engine(gateway, config)
    thread = None
    if applier:
        thread = threading.Thread(
            target=apply_inbox, args=(stop, gateway), name="gateway-applier", daemon=True
        )
        thread.start()
    try:
        serve(stop, gateway)
    finally:
        engine.close()
        if thread:
            thread.join(10)
        gateway.db.close()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
