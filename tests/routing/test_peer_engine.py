"""The peer engine (tests/routing/peer_engine.py) itself, driven by a small QuickFIX
initiator written here with the `quickfix` package alone (not the portal's gateway, not
trading/fix.py). No database.

Every wait is on a condition with a deadline: the initiator's callbacks notify a
Condition, the peer's `wait_*` commands block on its side. "Nothing more came" is shown
with a barrier: an OrderStatusRequest sent after, whose answer comes after anything the
peer had sent before it (one session, one socket, in order).
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import quickfix as qf

from .peer_engine import PeerError, PeerProcess, data_dictionary

SOH = "\x01"
WAIT = 30  # seconds: a deadline, not a pause


def fields_of(message: qf.Message) -> dict[int, str]:
    """Tag -> value of a message (header, body and trailer; no repeating groups here)."""
    out = {}
    for part in message.toString().split(SOH):
        tag, sep, value = part.partition("=")
        if sep:
            out[int(tag)] = value
    return out


class Initiator(qf.Application):
    """The gateway's side of the session (RUSHTRADE -> ROUTER), as a plain recorder."""

    def __init__(self):
        super().__init__()
        self.cond = threading.Condition()
        self.app: list[dict[int, str]] = []  # received application messages
        self.admin: list[dict[int, str]] = []  # received admin messages
        self.sent: list[dict[int, str]] = []  # sent application messages (resends too)
        self.logons = 0
        self.logged_on = False
        self.errors: list[str] = []

    def _keep(self, into, message):
        # No exception may leave a callback (the binding would end the process).
        try:
            record = fields_of(message)
        except Exception as exc:
            record = None
            self.errors.append(repr(exc))
        with self.cond:
            if record is not None:
                into.append(record)
            self.cond.notify_all()

    def onCreate(self, session_id):
        pass

    def onLogon(self, session_id):
        with self.cond:
            self.logons += 1
            self.logged_on = True
            self.cond.notify_all()

    def onLogout(self, session_id):
        with self.cond:
            self.logged_on = False
            self.cond.notify_all()

    def toAdmin(self, message, session_id):
        pass

    def toApp(self, message, session_id):
        self._keep(self.sent, message)

    def fromAdmin(self, message, session_id):
        self._keep(self.admin, message)

    def fromApp(self, message, session_id):
        self._keep(self.app, message)

    def wait(self, predicate, what: str, timeout: float = WAIT):
        with self.cond:
            assert self.cond.wait_for(predicate, timeout=timeout), f"timed out waiting for {what}"


class Client:
    """A QuickFIX SocketInitiator to the peer, with a few order messages."""

    def __init__(self, workdir: Path, port: int):
        workdir.mkdir(parents=True, exist_ok=True)
        self.session_id = qf.SessionID("FIX.4.2", "RUSHTRADE", "ROUTER")
        defaults = {
            "ConnectionType": "initiator",
            "SocketConnectHost": "127.0.0.1",
            "SocketConnectPort": str(port),
            "ReconnectInterval": "1",
            "HeartBtInt": "30",
            "FileStorePath": str(workdir / "store"),
            "FileLogPath": str(workdir / "log"),
            "UseDataDictionary": "Y",
            "DataDictionary": str(data_dictionary()),
            "NonStopSession": "Y",
            "ResetOnLogon": "N",
            "ResetOnLogout": "N",
            "ResetOnDisconnect": "N",
            "PersistMessages": "Y",
        }
        default_dict, session_dict = qf.Dictionary(), qf.Dictionary()
        for key, value in defaults.items():
            default_dict.setString(key, value)
        session_dict.setString("BeginString", "FIX.4.2")
        session_dict.setString("SenderCompID", "RUSHTRADE")
        session_dict.setString("TargetCompID", "ROUTER")
        self.settings = qf.SessionSettings()
        self.settings.set(default_dict)
        self.settings.set(self.session_id, session_dict)
        self.app = Initiator()
        self.store_factory = qf.FileStoreFactory(self.settings)
        self.log_factory = qf.FileLogFactory(self.settings)
        self.initiator = qf.SocketInitiator(
            self.app, self.store_factory, self.settings, self.log_factory
        )

    def start(self):
        self.initiator.start()

    def close(self):
        if self.initiator is not None:
            self.initiator.stop(True)
            # The connector first, then what it refers to.
            self.initiator = None
            self.log_factory = self.store_factory = None

    def wait_logon(self, count: int = 1):
        app = self.app
        app.wait(lambda: app.logged_on and app.logons >= count, f"logon #{count}")

    def send(self, msg_type: str, fields: dict[int, str], header: dict[int, str] | None = None):
        message = qf.Message()
        message.getHeader().setField(35, msg_type)
        for tag, value in (header or {}).items():
            message.getHeader().setField(tag, value)
        for tag, value in fields.items():
            message.setField(tag, value)
        # True even when not logged on (then stored for a resend): the tests send logged on.
        qf.Session.sendToTarget(message, self.session_id)

    def sent_seq(self, cl_ord_id: str, msg_type: str) -> int:
        """The MsgSeqNum a message went out with (toApp ran before sendToTarget returned)."""
        with self.app.cond:
            seqs = [
                int(m[34]) for m in self.app.sent if m.get(11) == cl_ord_id and m[35] == msg_type
            ]
        assert seqs, f"{msg_type} {cl_ord_id} was not sent"
        return seqs[0]

    def new_order(self, cl_ord_id, *, qty="10", ord_type="2", price="50.25", stop_px=None):
        fields = {11: cl_ord_id, 21: "1", 55: "ACME", 54: "1", 60: now(), 38: qty, 40: ord_type}
        if price is not None:
            fields[44] = price
        if stop_px is not None:
            fields[99] = stop_px
        self.send("D", fields)
        return self.sent_seq(cl_ord_id, "D")

    def cancel(self, cl_ord_id, orig_cl_ord_id, qty="10"):
        self.send("F", {41: orig_cl_ord_id, 11: cl_ord_id, 55: "ACME", 54: "1", 60: now(), 38: qty})
        return self.sent_seq(cl_ord_id, "F")

    def status(self, cl_ord_id):
        self.send("H", {11: cl_ord_id, 55: "ACME", 54: "1"})

    def reports(self, cl_ord_id=None) -> list[dict[int, str]]:
        with self.app.cond:
            return [
                m
                for m in self.app.app
                if m[35] == "8" and (cl_ord_id is None or m.get(11) == cl_ord_id)
            ]

    def wait_app(self, predicate, what: str, count: int = 1) -> list[dict[int, str]]:
        found = []

        def enough():
            found[:] = [m for m in self.app.app if predicate(m)]
            return len(found) >= count

        self.app.wait(enough, what)
        return found

    def wait_admin(self, predicate, what: str) -> dict[int, str]:
        found = []

        def seen():
            found[:] = [m for m in self.app.admin if predicate(m)]
            return bool(found)

        self.app.wait(seen, what)
        return found[0]

    def barrier(self, cl_ord_id: str) -> dict[int, str]:
        """Ask the status of `cl_ord_id` and wait for the answer: whatever the peer sent
        before has arrived by then."""
        before = len([m for m in self.reports(cl_ord_id) if m[20] == "3"])
        self.status(cl_ord_id)
        answers = self.wait_app(
            lambda m: m[35] == "8" and m.get(11) == cl_ord_id and m[20] == "3",
            f"status of {cl_ord_id}",
            count=before + 1,
        )
        return answers[-1]


def now() -> str:
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y%m%d-%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"


def _quickfix_in_this_process():
    """QuickFIX's C++ destructors can crash at interpreter exit: tests/conftest.py then
    leaves with os._exit (pytest_unconfigure) when this flag is set."""
    conftest = sys.modules.get("tests.conftest")
    if conftest is not None:
        conftest.QUICKFIX_RUNNING = True


@pytest.fixture
def peer(tmp_path):
    p = PeerProcess(tmp_path / "peer")
    p.start()
    print(f"peer: {p.command_line()}")  # shown with a failure, as are the lines below
    yield p
    if p.control is not None:
        print("\n".join(p.control("events", tail=30)["lines"]))
    errors = p.control("ping")["errors"] if p.control is not None else []
    p.stop()
    assert errors == [], errors


@pytest.fixture
def client(tmp_path, peer):
    _quickfix_in_this_process()
    c = Client(tmp_path / "client", peer.port)
    c.start()
    c.wait_logon()
    peer.control("wait_logon")
    yield c
    c.close()
    assert c.app.errors == []


def test_limit_order_is_filled_at_once_by_one_report_with_exec_id_1(peer, client):
    client.new_order("A1", qty="10", price="50.25")

    (fill,) = client.wait_app(lambda m: m[35] == "8" and m[11] == "A1", "the fill")
    assert fill[17] == "1"  # ExecID: from 1 in this run
    assert (fill[20], fill[150], fill[39]) == ("0", "2", "2")  # new, fill, filled
    assert (fill[32], fill[31], fill[14], fill[151], fill[6]) == ("10", "50.25", "10", "0", "50.25")
    assert 60 in fill  # TransactTime
    status = client.barrier("A1")
    assert [m[150] for m in client.reports("A1")] == ["2", "2"]  # the fill, the status: no ack
    assert (status[20], status[150], status[39], status[17]) == ("3", "2", "2", "0")

    # The peer says the same.
    sent = peer.control("sent", msg_type="8", cl_ord_id="A1")["messages"]
    assert [(m["exec_trans_type"], m["exec_type"]) for m in sent] == [("0", "2"), ("3", "2")]
    (received,) = peer.control("received", msg_type="D")["messages"]
    assert received["cl_ord_id"] == "A1" and received["poss_dup"] is False
    assert received["answer"] == "filled (1)"


def test_fill_price_set_by_the_test_and_market_orders_when_taken(peer, client):
    peer.control("set", fill_price="49.5", reject_ord_types=[])
    client.new_order("L1", price="50.25")
    client.new_order("M1", ord_type="1", price=None)
    (limit,) = client.wait_app(lambda m: m[35] == "8" and m[11] == "L1", "limit fill")
    (market,) = client.wait_app(lambda m: m[35] == "8" and m[11] == "M1", "market fill")
    assert (limit[31], market[31]) == ("49.5", "49.5")
    assert (limit[17], market[17]) == ("1", "2")


def test_restarted_peer_numbers_exec_ids_from_1_again(peer, client):
    client.new_order("R1")
    (first,) = client.wait_app(lambda m: m[35] == "8" and m[11] == "R1", "fill before restart")
    seq_before = peer.control("session")["next_target_seq"]

    peer.restart()  # same port and store: the session goes on, the ExecID counter does not
    client.wait_logon(count=2)
    peer.control("wait_logon")
    assert peer.control("session")["next_target_seq"] > seq_before

    client.new_order("R2")
    (second,) = client.wait_app(lambda m: m[35] == "8" and m[11] == "R2", "fill after restart")
    assert first[17] == second[17] == "1"  # the same ExecID for two different fills
    assert first[37] != second[37]  # OrderIDs stay unique (order_ids=unique)


@pytest.mark.parametrize(
    ("style", "text"),
    [
        ("custom", "Order type 1 (market) is not accepted"),
        ("quickfix", "Value is incorrect (out of range) for this tag"),
    ],
)
def test_market_order_gets_a_session_reject(peer, client, style, text):
    peer.control("set", reject_style=style)
    seq = client.new_order("M1", ord_type="1", price=None)

    reject = client.wait_admin(lambda m: m[35] == "3", "the session Reject")
    assert (reject[45], reject[372], reject[371], reject[373]) == (str(seq), "D", "40", "5")
    assert reject[58] == text
    # And a stop order too; neither order got a report, and the peer knows neither.
    seq = client.new_order("S1", ord_type="3", price=None, stop_px="55")
    client.wait_admin(lambda m: m[35] == "3" and m[45] == str(seq), "the stop order's Reject")
    status = client.barrier("M1")
    assert (status[39], status[58], status[37]) == ("8", "Unknown order", "NONE")
    assert client.reports("M1") == [status] and client.reports("S1") == []


def test_cancel_is_done_then_business_rejected_when_not_handled(peer, client):
    peer.control("set", mode="rest")
    client.new_order("C1")
    client.new_order("C2")
    client.wait_app(lambda m: m[35] == "8" and m[150] == "0", "two acknowledgements", count=2)

    client.cancel("X1", "C1")  # handled by default
    (canceled,) = client.wait_app(lambda m: m[35] == "8" and m[11] == "X1", "the cancel")
    assert (canceled[150], canceled[39], canceled[41], canceled[151]) == ("4", "4", "C1", "0")

    peer.control("set", unsupported=["F", "G"])
    seq = client.cancel("X2", "C2")
    (bmr,) = client.wait_app(lambda m: m[35] == "j", "the BusinessMessageReject")
    assert (bmr[45], bmr[372], bmr[379], bmr[380]) == (str(seq), "F", "X2", "3")
    assert bmr[58] == "MsgType F is not supported"

    # A BusinessMessageReject and a session Reject to the peer are never answered.
    client.send("j", {45: bmr[34], 372: "j", 380: "0", 58: "test"})
    client.send("3", {45: bmr[34], 372: "j", 58: "test"})
    peer.control("wait_received", msg_type=["j", "3"], count=2)
    client.barrier("C2")
    replies = peer.control("sent", msg_type=["j", "3", "9"])["messages"]
    assert [m["ref_msg_type"] for m in replies] == ["F"]
    answers = [m["answer"] for m in peer.control("received", msg_type="j")["messages"]]
    assert answers == ["none (a BusinessMessageReject is never answered)"]
    assert [m[35] for m in client.app.app].count("j") == 1


def test_bust_and_correct_reference_the_earlier_fill(peer, client):
    client.new_order("B1", qty="10", price="20")
    client.wait_app(lambda m: m[35] == "8" and m[11] == "B1", "the fill")

    reply = peer.control("bust", exec_id="1")
    assert (reply["exec_id"], reply["exec_ref_id"], reply["ord_status"]) == ("2", "1", "0")
    (bust,) = client.wait_app(lambda m: m[35] == "8" and m[20] == "1", "the bust")
    assert (bust[17], bust[19], bust[150], bust[39]) == ("2", "1", "2", "0")
    assert (bust[14], bust[151], bust[32]) == ("0", "10", "0")  # open again, nothing filled

    # The reopened order fills again; then that fill is corrected to 8 @ 20.5.
    assert peer.control("fill", cl_ord_id="B1")["exec_ids"] == ["3"]
    peer.control("correct", exec_id="3", qty="8", price="20.5")
    (correction,) = client.wait_app(lambda m: m[35] == "8" and m[20] == "2", "the correction")
    assert (correction[17], correction[19], correction[32], correction[31]) == (
        "4",
        "3",
        "8",
        "20.5",
    )
    assert (correction[14], correction[151], correction[39], correction[6]) == (
        "8",
        "2",
        "1",
        "20.5",
    )
    with pytest.raises(PeerError, match="already busted or corrected"):
        peer.control("bust", exec_id="3")


def test_partial_fills_go_out_of_order(peer, client):
    peer.control("set", mode="partial", partials=3)
    client.new_order("P1", qty="10", price="10")
    reports = client.wait_app(lambda m: m[35] == "8" and m[11] == "P1", "three fills", count=3)
    assert [m[14] for m in reports] == ["10", "7", "4"]  # CumQty goes down: sent in reverse
    assert [m[17] for m in reports] == ["3", "2", "1"]
    assert [m[150] for m in reports] == ["2", "1", "1"]
    assert sorted(m[32] for m in reports) == ["3", "3", "4"]


def test_resting_order_filled_without_transact_time_then_done_for_day(peer, client):
    peer.control("set", mode="rest", transact_time=False)
    client.new_order("D1", qty="10", price="30")
    (ack,) = client.wait_app(lambda m: m[35] == "8" and m[11] == "D1", "the acknowledgement")
    assert (ack[150], ack[39], ack[151]) == ("0", "0", "10")

    peer.control("fill", cl_ord_id="D1", qty="4", price="29.9")
    peer.control("cancel", cl_ord_id="D1", reason="done_for_day")
    _, fill, done = client.wait_app(lambda m: m[35] == "8" and m[11] == "D1", "fill, end", count=3)
    assert (fill[150], fill[39], fill[32], fill[31], fill[151]) == ("1", "1", "4", "29.9", "6")
    assert 60 not in fill
    assert (done[150], done[39], done[14], done[151]) == ("3", "3", "4", "0")


def test_status_requests_are_answered(peer, client):
    peer.control("set", mode="rest")
    client.new_order("H1", qty="5", price="12")
    client.wait_app(lambda m: m[35] == "8" and m[11] == "H1", "the acknowledgement")

    status = client.barrier("H1")
    assert (status[20], status[150], status[39], status[17]) == ("3", "0", "0", "0")
    assert (status[14], status[151], status[37]) == ("0", "5", client.reports("H1")[0][37])
    assert 32 not in status

    unknown = client.barrier("NOPE")
    assert (unknown[20], unknown[150], unknown[39], unknown[58]) == ("3", "8", "8", "Unknown order")

    peer.control("set", unknown_status="bmr")
    client.status("NOPE2")
    (bmr,) = client.wait_app(lambda m: m[35] == "j", "the unknown-ID reject")
    assert (bmr[372], bmr[379], bmr[380]) == ("H", "NOPE2", "1")


def test_peer_demands_a_resend(peer, client):
    client.new_order("Q1")
    client.wait_app(lambda m: m[35] == "8" and m[11] == "Q1", "the fill")
    order_seq = client.sent_seq("Q1", "D")

    # A ResendRequest sent by command: the initiator resends its order as a possible
    # duplicate. (QuickFIX on the peer drops what is below the number it expects.)
    peer.control("resend_request", begin=1, end=0)
    request = client.wait_admin(lambda m: m[35] == "2", "the ResendRequest")
    assert (request[7], request[16]) == ("1", "0")
    client.app.wait(
        lambda: any(m[35] == "D" and m.get(43) == "Y" for m in client.app.sent), "the resent order"
    )
    client.barrier("Q1")
    wire = peer.control("wire", direction="in")["lines"]
    assert any("|35=D|" in w["fix"] and "|43=Y|" in w["fix"] for w in wire)

    # Expected sequence number set back: QuickFIX on the peer asks for the resend itself,
    # and the application gets the order again, flagged, and does not fill it twice.
    peer.control("expect_target_seq", seq=order_seq)
    (again,) = peer.control("wait_received", msg_type="D", poss_dup=True)["messages"]
    assert (again["cl_ord_id"], again["seq"]) == ("Q1", order_seq)
    assert peer.control("wait_sent", msg_type="2", begin_seq_no=order_seq)["messages"]
    client.barrier("Q1")
    assert [m[20] for m in client.reports("Q1")].count("0") == 1  # one fill, the rest statuses
    again = peer.control("received", msg_type="D", poss_dup=True)["messages"][0]
    assert again["answer"] == "none (possible duplicate of a known ClOrdID)"


def test_reports_made_while_the_gateway_is_away_come_in_the_resend(tmp_path, peer, client):
    peer.control("set", mode="rest")
    client.new_order("W1", qty="5", price="10")
    client.wait_app(lambda m: m[35] == "8" and m[11] == "W1", "the acknowledgement")
    client.close()
    peer.control("wait_logout")

    assert peer.control("fill", cl_ord_id="W1")["delivered"] is False  # stored by QuickFIX
    assert peer.control("bust", cl_ord_id="W1")["delivered"] is False

    back = Client(tmp_path / "client", peer.port)  # the same store: the session goes on
    try:
        back.start()
        back.wait_logon()
        fill, bust = back.wait_app(lambda m: m[35] == "8", "the resent reports", count=2)
        assert (fill[17], fill[20], fill[43], bust[17], bust[20], bust[43]) == (
            "2",
            "0",
            "Y",
            "3",
            "1",
            "Y",
        )
    finally:
        back.close()
