"""FIX 4.2 over QuickFIX on 127.0.0.1: a toy engine (acceptor) fills every NewOrderSingle
at its limit price; the initiator logs on, gets its ExecutionReport, restarts on the same
store, and its sequence numbers go on where they stopped. No database."""

import itertools
import os
import queue
import threading
from decimal import Decimal

import pytest
import quickfix as qf

from tests.conftest import free_port
from trading.routing import fix

WAIT = 10  # seconds, for every wait on the other side

ENGINE, GATEWAY = "RT-ENGINE", "RT-GATEWAY"


def os_thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


class Recorder(fix.Application):
    """Remembers what a session did. An exception in a hook is kept for the test to see
    instead of ending the process (fix.Application's default)."""

    def __init__(self):
        super().__init__()
        self.logged_on = threading.Event()
        self.logged_out = threading.Event()
        self.sent = []  # (MsgSeqNum, MsgType) of every outgoing message, in order
        self.received = []  # the same, incoming
        self.errors = []

    def on_callback_error(self, callback, exc):
        self.errors.append((callback, exc))

    def _seq(self, message):
        header = message.getHeader()
        return int(header.getField(fix.Tag.MSG_SEQ_NUM)), header.getField(fix.Tag.MSG_TYPE)

    def on_logon(self, session_id):
        self.logged_on.set()

    def on_logout(self, session_id):
        self.logged_out.set()

    def to_admin(self, message, session_id):
        self.sent.append(self._seq(message))

    def to_app(self, message, session_id):
        self.sent.append(self._seq(message))

    def from_admin(self, message, session_id):
        self.received.append(self._seq(message))

    def from_app(self, message, session_id):
        self.received.append(self._seq(message))


class ToyEngine(Recorder):
    """Fills every NewOrderSingle in full at its limit price, at once."""

    def __init__(self):
        super().__init__()
        self.ids = itertools.count(1)

    def from_app(self, message, session_id):
        super().from_app(message, session_id)
        order = fix.read_order_request(message)
        if order.msg_type != fix.MsgType.NEW_ORDER_SINGLE:
            raise qf.UnsupportedMessageType()
        n = next(self.ids)
        report = fix.execution_report(
            order_id=f"O{n}",
            exec_id=f"E{n}",
            exec_type=fix.ExecType.FILL,
            ord_status=fix.OrdStatus.FILLED,
            cl_ord_id=order.cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            order_qty=order.quantity,
            last_shares=order.quantity,
            last_px=order.limit_price,
            leaves_qty=0,
            cum_qty=order.quantity,
            avg_px=order.limit_price,
        )
        assert fix.send(report, session_id)


class Gateway(Recorder):
    def __init__(self):
        super().__init__()
        self.reports = queue.Queue()

    def from_app(self, message, session_id):
        super().from_app(message, session_id)
        # The message is QuickFIX's, valid only during the callback: read it here.
        self.reports.put(fix.read_execution_report(message))


def started(engine: fix.Engine, app: Recorder) -> fix.Engine:
    engine.start()
    assert app.logged_on.wait(WAIT), f"{engine.role} did not log on within {WAIT} s"
    return engine


def order_and_fill(gateway_app: Gateway, session_id, cl_ord_id: str, qty: int, price: str):
    order = fix.new_order_single(
        cl_ord_id=cl_ord_id,
        symbol="AAPL",
        side="buy",
        quantity=qty,
        order_type="limit",
        limit_price=Decimal(price),
        account="RT000123",
    )
    assert fix.send(order, session_id)
    report = gateway_app.reports.get(timeout=WAIT)
    assert report.cl_ord_id == cl_ord_id
    assert report.exec_type is fix.ExecType.FILL
    assert report.ord_status is fix.OrdStatus.FILLED
    assert report.exec_trans_type == "0"
    assert (report.symbol, report.side) == ("AAPL", "buy")
    assert report.last_shares == report.cum_qty == report.order_qty == qty
    assert report.leaves_qty == 0
    assert report.last_px == report.avg_px == Decimal(price)
    assert not report.poss_dup
    return report


def test_order_fill_and_sequence_numbers_survive_a_restart(tmp_path):
    threads_before = os_thread_count()
    port = free_port()
    common = {"port": port, "heartbeat_interval": 30}
    engine_config = fix.session_config(
        "acceptor",
        sender_comp_id=ENGINE,
        target_comp_id=GATEWAY,
        store_path=tmp_path / "engine" / "store",
        log_path=tmp_path / "engine" / "log",
        allowed_remote_addresses=["127.0.0.1"],
        **common,
    )
    gateway_config = fix.session_config(
        "initiator",
        sender_comp_id=GATEWAY,
        target_comp_id=ENGINE,
        host="127.0.0.1",
        reconnect_interval=1,
        store_path=tmp_path / "gateway" / "store",
        log_path=tmp_path / "gateway" / "log",
        **common,
    )
    assert gateway_config["ResetOnLogon"] == "N"
    assert gateway_config["PersistMessages"] == "Y"
    assert gateway_config["DataDictionary"].endswith("FIX42.xml")
    gateway_sid = fix.session_id_of(gateway_config)

    toy = ToyEngine()
    engine = fix.Engine(toy, fix.build_session_settings(engine_config))
    first, second = Gateway(), Gateway()
    gateway = None
    try:
        engine.start()
        gateway = started(fix.Engine(first, fix.build_session_settings(gateway_config)), first)
        assert toy.logged_on.wait(WAIT)
        order_and_fill(first, gateway_sid, "C-1", 100, "187.2500")

        gateway.close()  # logs out; the store keeps the numbers
        assert toy.logged_out.wait(WAIT)
        last_seq, last_type = first.sent[-1]
        assert last_type == "5"  # Logout
        assert first.sent[0] == (1, "A")  # a fresh store starts at 1
        assert [seq for seq, _ in first.sent] == list(range(1, last_seq + 1))
        seqnums = list((tmp_path / "gateway" / "store").glob("*.seqnums"))
        assert len(seqnums) == 1, "the FileStore keeps the sequence numbers on disk"

        toy.logged_on.clear()
        gateway = started(fix.Engine(second, fix.build_session_settings(gateway_config)), second)
        assert toy.logged_on.wait(WAIT)
        assert second.sent[0] == (last_seq + 1, "A"), "the Logon goes on from the last number"
        # The engine's numbers went on too: its first message after the restart follows
        # the last one the gateway got before it.
        assert second.received[0][0] == first.received[-1][0] + 1
        order_and_fill(second, gateway_sid, "C-2", 7, "0.0100")
        assert fix.next_sender_seq_num(gateway_sid) == second.sent[-1][0] + 1
    finally:
        if gateway is not None:
            gateway.close()
        engine.close()

    for app in (toy, first, second):
        assert not app.errors, app.errors
    assert os_thread_count() == threads_before, "QuickFIX left a thread running"


def test_messages_refuse_float_prices():
    with pytest.raises(TypeError):
        fix.new_order_single(
            cl_ord_id="C-1",
            symbol="AAPL",
            side="buy",
            quantity=1,
            order_type="limit",
            limit_price=187.25,
        )


def test_messages_validate_against_the_fix42_dictionary():
    dictionary = qf.DataDictionary(str(fix.data_dictionary_path()))
    messages = [
        fix.new_order_single(
            cl_ord_id="C-1", symbol="AAPL", side="sell", quantity=5, order_type="market"
        ),
        fix.order_cancel_request(
            cl_ord_id="C-2", orig_cl_ord_id="C-1", symbol="AAPL", side="sell", quantity=5
        ),
        fix.order_cancel_replace_request(
            cl_ord_id="C-3",
            orig_cl_ord_id="C-1",
            symbol="AAPL",
            side="sell",
            quantity=5,
            order_type="stop_limit",
            limit_price=Decimal("99.50"),
            stop_price=Decimal("100"),
            time_in_force="gtc",
        ),
        fix.execution_report(
            order_id="O-1",
            exec_id="E-1",
            exec_type=fix.ExecType.CANCELED,
            ord_status=fix.OrdStatus.CANCELED,
            cl_ord_id="C-2",
            orig_cl_ord_id="C-1",
            symbol="AAPL",
            side="sell",
            order_qty=5,
            leaves_qty=0,
            cum_qty=0,
            avg_px=Decimal(0),
            text="canceled by the customer",
        ),
    ]
    for message in messages:
        header = message.getHeader()
        for tag, value in ((49, GATEWAY), (56, ENGINE), (34, "1"), (52, "20250102-14:30:00.000")):
            header.setField(tag, value)
        parsed = qf.Message(message.toString(), dictionary, True)
        dictionary.validate(parsed)  # raises on a missing or unknown field

    replace = fix.read_order_request(messages[2])
    assert (replace.order_type, replace.time_in_force) == ("stop_limit", "gtc")
    assert (replace.limit_price, replace.stop_price) == (Decimal("99.50"), Decimal("100"))
    canceled = fix.read_execution_report(messages[3])
    assert canceled.orig_cl_ord_id == "C-1" and canceled.text == "canceled by the customer"
    assert canceled.last_shares == 0 and canceled.last_px == 0


def test_a_failing_hook_goes_to_on_callback_error_and_quickfix_exceptions_pass():
    class Failing(Recorder):
        def from_app(self, message, session_id):
            raise RuntimeError("database is down")

        def to_app(self, message, session_id):
            raise qf.DoNotSend()

    app = Failing()
    sid = qf.SessionID(fix.BEGIN_STRING, GATEWAY, ENGINE)
    message = fix.order_cancel_request(
        cl_ord_id="C-2", orig_cl_ord_id="C-1", symbol="AAPL", side="buy", quantity=1
    )
    app.fromApp(message, sid)  # as QuickFIX's thread would call it
    assert [(name, str(exc)) for name, exc in app.errors] == [("fromApp", "database is down")]
    with pytest.raises(qf.DoNotSend):
        app.toApp(message, sid)
