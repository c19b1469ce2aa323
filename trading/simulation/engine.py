"""The routing engine simulator: a FIX 4.2 acceptor that fills against the simulated
market, for development, demos and tests (in production the firm's engine takes its
place). It speaks only standard FIX 4.2: the gateway must not rely on anything else.

- Market orders fill at the quote (ask for buys, bid for sells); marketable limits at
  once at the quote or better; other limits rest and fill when the price crosses; stops
  trigger when the last price reaches them and then act as market (stop) or limit
  (stop-limit) orders.
- Each pass fills at most the quoted size, so large orders fill in parts.
- IOC fills what it can now and cancels the rest; FOK fills whole now or is canceled.
- DAY orders expire at the close; GTC orders rest until canceled.
- Cancel and cancel/replace of a live order are confirmed; of an unknown or finished one
  they get an OrderCancelReject. Unknown and halted symbols are rejected.
- A NewOrderSingle whose ClOrdID it has seen (a PossResend) is not entered twice.
Resting orders live in memory: restarting the simulator forgets them.
"""

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db import connections
from django.utils import timezone

from trading.market import market_data
from trading.market.calendar import nyse
from trading.market.models import Security
from trading.routing import fix
from trading.routing.gateway import DatabaseThread

log = logging.getLogger(__name__)
ZERO = Decimal("0")


def day_order_expiry(now: datetime) -> datetime:
    """A DAY order lives until the close of the session it is entered in, or of the next
    one if it comes while the market is closed."""
    calendar = nyse()
    minute = pd.Timestamp(now).tz_convert("UTC").floor("min")
    session = calendar.minute_to_session(minute, direction="next")
    return calendar.session_close(session).to_pydatetime()


def engine_config(**overrides) -> dict[str, str]:
    params = {
        "port": settings.ROUTING_ENGINE_PORT,
        "sender_comp_id": settings.FIX_TARGET_COMP_ID,
        "target_comp_id": settings.FIX_SENDER_COMP_ID,
        "heartbeat_interval": settings.FIX_HEARTBEAT_INTERVAL,
        "store_path": str(settings.FIX_STORE_DIR / "engine"),
        "log_path": str(settings.FIX_LOG_DIR / "engine"),
        "allowed_remote_addresses": settings.ROUTING_ENGINE_ALLOWED_ADDRESSES,
    } | overrides
    return fix.session_config("acceptor", **params)


@dataclass
class SimOrder:
    order_id: str
    cl_ord_id: str
    symbol: str
    side: str
    qty: int
    order_type: str
    time_in_force: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    cum_qty: int = 0
    avg_px: Decimal = ZERO
    triggered: bool = False
    done: bool = False
    expires_at: datetime | None = None
    history: list[str] = field(default_factory=list)

    @property
    def leaves(self) -> int:
        return 0 if self.done else self.qty - self.cum_qty


class RoutingEngine(fix.Application):
    def __init__(self) -> None:
        super().__init__()
        # Our own SessionID (set by run() from the config): QuickFIX's callback arguments
        # are valid only during the call, and keeping them crashed the process at stop.
        self.session_id = None
        self.logged_on = False
        self.db = DatabaseThread("engine-db")
        self.lock = threading.RLock()
        self.orders: dict[str, SimOrder] = {}  # by ClOrdID (the latest of a replace chain)
        self.seen: set[str] = set()

    def on_logon(self, session_id):
        self.logged_on = True

    def on_logout(self, session_id):
        self.logged_on = False

    def from_app(self, message, session_id):
        if fix.msg_type(message) == fix.MsgType.ORDER_STATUS_REQUEST:
            cl_ord_id = message.getField(int(fix.Tag.CL_ORD_ID))
            side = message.getField(int(fix.Tag.SIDE))
            symbol = message.getField(int(fix.Tag.SYMBOL))
            with self.lock:
                self._status_report(cl_ord_id, symbol, side)
            return
        request = fix.read_order_request(message)
        self.db.call(self._handle, request)

    def _status_report(self, cl_ord_id: str, symbol: str, side: str) -> None:
        """OrderStatusRequest (35=H): an ExecutionReport with ExecTransType 3 (status)."""
        order = self.orders.get(cl_ord_id) or next(
            (o for o in self.orders.values() if cl_ord_id in o.history), None
        )
        if order is None:
            message = fix.execution_report(
                order_id="NONE",
                exec_id="0",
                exec_type=fix.ExecType.REJECTED,
                ord_status=fix.OrdStatus.REJECTED,
                cl_ord_id=cl_ord_id,
                symbol=symbol,
                side={"1": "buy", "2": "sell"}.get(side, "buy"),
                order_qty=0,
                leaves_qty=0,
                cum_qty=0,
                avg_px=ZERO,
                text="Unknown order",
                exec_trans_type="3",
            )
        else:
            status = self._status(order)
            message = fix.execution_report(
                order_id=order.order_id,
                exec_id="0",
                exec_type=status,
                ord_status=status,
                cl_ord_id=order.cl_ord_id,
                symbol=order.symbol,
                side=order.side,
                order_qty=order.qty,
                leaves_qty=0 if order.done else order.leaves,
                cum_qty=order.cum_qty,
                avg_px=order.avg_px,
                exec_trans_type="3",
            )
        fix.send(message, self.session_id)

    def _handle(self, request) -> None:
        with self.lock:
            if request.msg_type == fix.MsgType.NEW_ORDER_SINGLE:
                self._new(request)
            elif request.msg_type == fix.MsgType.ORDER_CANCEL_REQUEST:
                self._cancel(request)
            else:
                self._replace(request)

    # --- messages out -------------------------------------------------------------------

    def _report(
        self,
        order: SimOrder,
        exec_type,
        ord_status,
        *,
        cl_ord_id=None,
        orig_cl_ord_id=None,
        last_shares=0,
        last_px=ZERO,
        text=None,
    ):
        message = fix.execution_report(
            order_id=order.order_id,
            exec_id=uuid.uuid4().hex,
            exec_type=exec_type,
            ord_status=ord_status,
            cl_ord_id=cl_ord_id or order.cl_ord_id,
            orig_cl_ord_id=orig_cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            order_qty=order.qty,
            leaves_qty=order.leaves,
            cum_qty=order.cum_qty,
            avg_px=order.avg_px,
            last_shares=last_shares,
            last_px=last_px,
            text=text,
        )
        fix.send(message, self.session_id)

    def _cancel_reject(self, request, response_to: str, text: str, order=None):
        fix.send(
            fix.order_cancel_reject(
                order_id=order.order_id if order else "NONE",
                cl_ord_id=request.cl_ord_id,
                orig_cl_ord_id=request.orig_cl_ord_id or "",
                response_to=response_to,
                ord_status=self._status(order) if order else fix.OrdStatus.REJECTED,
                text=text,
            ),
            self.session_id,
        )

    @staticmethod
    def _status(order: SimOrder) -> str:
        if order.done and order.cum_qty >= order.qty:
            return fix.OrdStatus.FILLED
        if order.done:
            return fix.OrdStatus.CANCELED
        return fix.OrdStatus.PARTIALLY_FILLED if order.cum_qty else fix.OrdStatus.NEW

    # --- requests in --------------------------------------------------------------------

    def _new(self, request):
        if request.cl_ord_id in self.seen:
            return  # a PossResend of an order already entered
        self.seen.add(request.cl_ord_id)
        order = SimOrder(
            order_id=uuid.uuid4().hex[:16],
            cl_ord_id=request.cl_ord_id,
            symbol=request.symbol,
            side=request.side,
            qty=int(request.quantity),
            order_type=request.order_type,
            time_in_force=request.time_in_force or "day",
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            expires_at=day_order_expiry(timezone.now()),
        )
        security = Security.objects.filter(symbol=request.symbol).first()
        if security is None or security.halted:
            order.done = True
            self._report(
                order,
                fix.ExecType.REJECTED,
                fix.OrdStatus.REJECTED,
                text="Unknown symbol" if security is None else "Symbol halted",
            )
            return
        self.orders[order.cl_ord_id] = order
        self._report(order, fix.ExecType.NEW, fix.OrdStatus.NEW)
        self._match(order, arriving=True)

    def _cancel(self, request):
        order = self.orders.get(request.orig_cl_ord_id or "")
        if order is None or order.done:
            self._cancel_reject(
                request, "1", "Too late to cancel" if order else "Unknown order", order
            )
            return
        order.done = True
        self._report(
            order,
            fix.ExecType.CANCELED,
            fix.OrdStatus.CANCELED,
            cl_ord_id=request.cl_ord_id,
            orig_cl_ord_id=order.cl_ord_id,
        )

    def _replace(self, request):
        order = self.orders.get(request.orig_cl_ord_id or "")
        if order is None or order.done or int(request.quantity) <= order.cum_qty:
            self._cancel_reject(
                request, "2", "Too late to replace" if order else "Unknown order", order
            )
            return
        old_cl = order.cl_ord_id
        order.history.append(old_cl)
        del self.orders[old_cl]
        order.cl_ord_id = request.cl_ord_id
        order.qty = int(request.quantity)
        order.limit_price, order.stop_price = request.limit_price, request.stop_price
        order.time_in_force = request.time_in_force or order.time_in_force
        self.orders[order.cl_ord_id] = order
        self.seen.add(order.cl_ord_id)
        self._report(order, fix.ExecType.REPLACED, self._status(order), orig_cl_ord_id=old_cl)
        self._match(order)

    # --- the market ---------------------------------------------------------------------

    def _price_for(self, order: SimOrder, quote) -> Decimal | None:
        """The fill price now, or None if the order cannot trade now."""
        touch = quote.ask if order.side == "buy" else quote.bid
        if order.order_type in ("stop", "stop_limit") and not order.triggered:
            hit = (
                quote.last >= order.stop_price
                if order.side == "buy"
                else quote.last <= order.stop_price
            )
            if not hit:
                return None
            order.triggered = True
        if order.order_type in ("market", "stop"):
            return touch
        if order.side == "buy":
            return touch if touch <= order.limit_price else None
        return touch if touch >= order.limit_price else None

    def _match(self, order: SimOrder, arriving: bool = False) -> None:
        if order.done:
            return
        quote = market_data.get_quote(order.symbol)
        immediate = order.time_in_force in ("ioc", "fok")
        if quote is None or not quote.market_open:
            if immediate:
                order.done = True
                self._report(
                    order, fix.ExecType.CANCELED, fix.OrdStatus.CANCELED, text="Market closed"
                )
            return
        price = self._price_for(order, quote)
        size = max(quote.ask_size if order.side == "buy" else quote.bid_size, 100)
        if order.time_in_force == "fok" and (price is None or order.leaves > size):
            order.done = True
            self._report(
                order,
                fix.ExecType.CANCELED,
                fix.OrdStatus.CANCELED,
                text="Fill or kill: not enough at the price",
            )
            return
        if price is not None:
            shares = min(order.leaves, size)
            order.avg_px = (
                (order.avg_px * order.cum_qty + price * shares) / (order.cum_qty + shares)
            ).quantize(Decimal("0.0001"))
            order.cum_qty += shares
            full = order.cum_qty >= order.qty
            if full:
                order.done = True
            self._report(
                order,
                fix.ExecType.FILL if full else fix.ExecType.PARTIAL_FILL,
                fix.OrdStatus.FILLED if full else fix.OrdStatus.PARTIALLY_FILLED,
                last_shares=shares,
                last_px=price,
            )
        if immediate and not order.done:
            order.done = True
            self._report(
                order,
                fix.ExecType.CANCELED,
                fix.OrdStatus.CANCELED,
                text="Immediate or cancel: rest canceled",
            )

    def tick(self) -> None:
        """Work resting orders against the market; expire DAY orders after the close."""
        if self.session_id is None or not self.logged_on:
            return
        with self.lock:
            now = timezone.now()
            for order in list(self.orders.values()):
                if order.done:
                    continue
                if order.time_in_force == "day" and now >= order.expires_at:
                    order.done = True
                    self._report(
                        order,
                        fix.ExecType.EXPIRED,
                        fix.OrdStatus.EXPIRED,
                        text="Day order expired at the close",
                    )
                    continue
                self._match(order)
            self.orders = {k: v for k, v in self.orders.items() if not v.done}
        connections.close_all()


def start_engine(app: RoutingEngine, config=None) -> fix.Engine:
    config = config or engine_config()
    app.session_id = fix.session_id_of(config)
    engine = fix.Engine(app, fix.build_session_settings(config))
    engine.start()
    return engine


def serve(stop: threading.Event, app: RoutingEngine, *, tick_seconds: float = 1.0) -> None:
    """Work resting orders every `tick_seconds` until `stop` is set."""
    try:
        while not stop.wait(tick_seconds):
            try:
                app.tick()
            except Exception:
                log.exception("routing engine simulator tick failed")
    finally:
        connections.close_all()


def run(stop: threading.Event, *, config=None) -> None:
    """The simulator process (manage.py run_routing_engine)."""
    app = RoutingEngine()
    engine = start_engine(app, config)
    try:
        serve(stop, app)
    finally:
        engine.close()
        app.db.close()
