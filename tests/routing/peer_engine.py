#!/usr/bin/env python3
"""A second FIX 4.2 routing engine for the tests ("the peer"), written apart from the
portal's simulator (trading/routing_engine.py) and from trading/fix.py: it uses only the
`quickfix` package, and behaves as other engines do, not as ours does.

Run it as its own process (it never imports Django or the portal):

    python tests/routing/peer_engine.py --port 9878 --store DIR --log DIR \\
        --sender ROUTER --target RUSHTRADE [--control-port 0] \\
        [--behaviour mode=rest --behaviour reject_ord_types=1,3 ...]

It is a QuickFIX SocketAcceptor for one FIX.4.2 session (SenderCompID ROUTER, TargetCompID
RUSHTRADE: the gateway's settings reversed), FileStore and FileLog in the given directories
(the store keeps sequence numbers across restarts, as a real engine's does; the order book
and the ExecID counter do not), data dictionary validation on (FIX42.xml shipped with
quickfix), non-stop session, no resets at logon/logout/disconnect, logons only from
127.0.0.1 (`--allow`). When listening it prints one line to stdout and nothing else:

    PEER READY {"fix_port": 9878, "control_port": 40123, "pid": 4242, "run": "r5f3a..."}

SIGTERM or SIGINT: logs out (QuickFIX waits for the logout, about a second), then exits 0.
With --lifeline (PeerProcess passes it) the same when stdin reaches EOF, i.e. when the test
process that started it has gone, so that no peer outlives a killed test run.
`tests.routing.peer_engine.PeerProcess` starts, restarts, stops and kills it for a test.

Behaviours
----------
Set at start with `--behaviour KEY=VALUE` (repeatable) or at any time with the `set`
control command (`reset_behaviour` goes back to the start-up ones). Defaults in brackets.

mode [fill]             what a NewOrderSingle gets:
                        fill    - ONE ExecutionReport 150=2/39=2 for the whole quantity,
                                  no acknowledgement (150=0) first;
                        rest    - acknowledged only (150=0, 39=0) and left resting: fill it,
                                  bust it, cancel it or expire it later by command;
                        partial - `partials` fills (150=1 ... 150=2) sent in `partial_order`.
ack [false]             send 150=0 before the fill(s) in modes fill and partial.
fill_price [none]       price of fills; none: the order's limit Price (44), else
default_price [100]     (market orders) this one.
partials [3]            number of fills in mode partial (integer shares split evenly).
partial_order [reverse] order the fills go out in: reverse (the last fill first, so a later
                        report has a smaller CumQty than an earlier one), in_order, or a
                        1-based permutation such as "2,3,1".
reject_ord_types [1,3]  OrdTypes (40) not taken (market, stop): answered with a session-level
                        Reject 35=3: RefSeqNum 45 = the order's MsgSeqNum, RefTagID 371=40,
                        RefMsgType 372=D, SessionRejectReason 373=5, Text 58.
reject_style [custom]   custom - that Reject is built here and sent through the session
                                 (Text "Order type 1 (market) is not accepted");
                        quickfix - raise quickfix.IncorrectTagValue(40) in fromApp and let
                                 QuickFIX build it (Text "Value is incorrect (out of range)
                                 for this tag"), as a bare QuickFIX engine would.
unsupported [G]         application MsgTypes answered with a BusinessMessageReject 35=j
                        (45 RefSeqNum, 372 RefMsgType, 379 BusinessRejectRefID = the
                        message's ClOrdID, 380 `bmr_reason`, 58 Text). Any application
                        message other than D, F, H and j gets one too. Put F here for
                        "cancels not handled".
bmr_reason [3]          BusinessRejectReason for those (3 unsupported message type, 0 other).
ignore []               application MsgTypes recorded and never answered (e.g. H: status
                        requests that go unanswered).
transact_time [true]    false: ExecutionReports carry no TransactTime (60).
order_ids [unique]      unique  - OrderIDs carry this run's tag, so they differ across runs;
                        per_run - OrderIDs O1, O2, ... restart too.
status_exec_id [zero]   ExecID of a status report (20=3): zero ("0"), or numbered (takes
                        the next ExecID).
unknown_status [report] an OrderStatusRequest for an order it does not know gets:
                        report - ExecutionReport 20=3, 150=8, 39=8, OrderID NONE,
                                 Text "Unknown order"; bmr - a 35=j with 380=1 (unknown ID).
bust_last_shares [zero] LastShares on a bust: zero (as FIX 4.2 Appendix D35 shows it) or
                        busted (the busted quantity, as some engines send it).

Always, whatever the behaviours:
- ExecIDs are "1", "2", "3", ... from 1 in every run of the process: a restarted peer
  reuses ExecIDs that fills of the previous run had (FIX 4.2 asks uniqueness only within a
  day, and many engines number per process).
- A 35=j or 35=3 is recorded and never answered (QuickFIX itself answers a 35=3 with
  nothing; with data dictionary validation on, QuickFIX would answer a *malformed* 35=j
  with a 35=3 before the application sees it).
- A NewOrderSingle with a ClOrdID it already has: ignored if PossDupFlag=Y (a resend),
  else rejected with an ExecutionReport 150=8/39=8, OrderID NONE, "Duplicate ClOrdID".
- OrderCancelRequest (F), unless in `unsupported`: a resting order is canceled
  (150=4, 39=4, ClOrdID = the request's, OrigClOrdID = the order's); anything else gets an
  OrderCancelReject 35=9 (434=1, 102=1 unknown order or 0 too late).
- OrderStatusRequest (H), unless in `unsupported`/`ignore`: ExecTransType 20=3, ExecType
  150 = OrdStatus 39 = the order's current status, CumQty/LeavesQty/AvgPx, ClOrdID as asked.
- Every message received (admin and application, after QuickFIX accepted it) and every
  message sent is recorded: see `received`/`sent` below.

Control channel
---------------
A TCP socket on 127.0.0.1 (`--control-port`, 0 = any free port, printed in the READY
line). One request per line, one reply per line, in order; any number of connections.
A request is a JSON object with "cmd" (or, typed by hand: `bust exec_id=1`, values
JSON-parsed where they parse). Every reply is a JSON object with "ok": true, or
"ok": false and "error". A command's reply comes after it has taken effect (the reports
it sends are handed to QuickFIX, which writes them to the socket at once when logged on;
"delivered" says whether the session was logged on: if not, QuickFIX has stored them and
they go out, PossDupFlag=Y, in the resend the gateway asks for after its next logon).
`wait_*` commands block on the peer's side until their condition holds or "timeout"
seconds pass (then "ok": false, "error": "timeout", and what there is so far).

  ping                               -> pid, run, fix_port, logged_on, errors (callback
                                        exceptions caught in the peer; should stay [])
  session                            -> logged_on, logons, next_sender_seq, next_target_seq
  wait_logon [count=N] [timeout=10]  -> waits for logged on, and for N logons in total
  wait_logout [timeout=10]
  set KEY=VALUE...                   -> behaviour (all of it, after the change)
  reset_behaviour                    -> behaviour (back to the start-up one)
  received [since=I] [FILTERS]       -> messages: records received, index >= since
  wait_received [count=1] [since=I] [timeout=10] [FILTERS] -> messages: the matches
  sent / wait_sent                   -> the same for messages sent (incl. admin, resends)
        a record: {"i", "dir", "admin", "msg_type", "seq", "poss_dup", "poss_resend",
        and each of these present in the message: cl_ord_id, orig_cl_ord_id, order_id,
        exec_id, exec_ref_id, exec_trans_type, exec_type, ord_status, last_shares, last_px,
        cum_qty, leaves_qty, avg_px, order_qty, ord_type, price, symbol, side,
        transact_time, text, ref_seq_num, ref_tag_id, ref_msg_type, session_reject_reason,
        business_reject_ref_id, business_reject_reason, begin_seq_no, end_seq_no,
        new_seq_no, gap_fill_flag, test_req_id, cxl_rej_response_to, cxl_rej_reason,
        "fix" (the message, | for SOH); application messages received also "answer"
        (what the peer did: they are recorded once answered)}.
        FILTERS: any of those keys = a value (or a list of values), e.g.
        {"cmd": "wait_received", "msg_type": "D", "poss_dup": true, "count": 2}.
  orders                             -> orders: the book (ids, status, quantities, fills)
  fill cl_ord_id=X [qty=Q] [price=P] [parts=N] [order=reverse|in_order|"2,1"]
       [transact_time=false]         -> exec_ids (in the order sent), delivered: fills a
                                        resting order (all that is left, by default)
  bust exec_id=E | cl_ord_id=X [ord_status=S] [text=T]
                                     -> exec_id (new), exec_ref_id, ord_status, delivered;
                                        the bust (of the order's last live fill if no
                                        exec_id): 20=1, 19=E, LastShares per
                                        bust_last_shares,
                                        150 = the busted fill's 150, CumQty/AvgPx without
                                        it, LeavesQty back (the order reopens, 39=0/1)
                                        unless it was canceled or ord_status says otherwise
  correct exec_id=E [qty=Q] [price=P] [text=T]
                                     -> exec_id, exec_ref_id, ord_status, delivered; the
                                        correction: 20=2, 19=E, 150 = the fill's, new
                                        LastShares/LastPx, CumQty/LeavesQty/AvgPx redone
  cancel cl_ord_id=X [reason=canceled|done_for_day|expired] [text=T]
                                     -> exec_id, ord_status, delivered: the unsolicited
                                        end of a resting order: 150=4/39=4, 150=3/39=3
                                        or 150=C/39=C, LeavesQty 0
  resend_request [begin=1] [end=0]   -> seq, delivered: sends a ResendRequest 35=2 (7=begin, 16=end)
                                        through the session. QuickFIX on the peer does not
                                        know it asked: what comes back below its expected
                                        number is dropped by QuickFIX (still in `wire`).
  expect_target_seq seq=N [test_request=true]
                                     -> was: sets the next MsgSeqNum expected from the
                                        gateway to N (lower than now) and sends a
                                        TestRequest; the gateway's answer is then "too
                                        high", so QuickFIX itself sends ResendRequest(N, 0)
                                        and hands the resent messages (PossDupFlag=Y) to the
                                        application: the peer really gets them again.
  send msg_type=T fields={"tag": "value", ...} -> seq, delivered: any message, as given
  logout [text=T] [refuse_logons=false] [timeout=10]
                                     -> session state once logged out; the gateway may log
                                        on again at once, or (refuse_logons=true) only
                                        after `allow_logons`
  allow_logons                       -> session state
  wire [direction=in|out|all] [since_line=I] -> lines: the raw FileLog of the session
  events [tail=N]                    -> lines: QuickFIX's event log
  quit [logout=true]                 -> replies, then exits: logout=false is a crash
                                        (os._exit at once, no logout)

QuickFIX (1.16, Python) facts this relies on
--------------------------------------------
- Session.sendToTarget returns True even when not logged on: the message is stored (and
  spends a sequence number) and goes out only in a resend. Hence "delivered" above.
- Admin messages are never resent: a resend replaces them, a 35=3 Reject included, with a
  SequenceReset-GapFill. A session Reject the gateway missed is gone; a 35=j is resent.
- A message below the expected MsgSeqNum with PossDupFlag=Y is dropped by QuickFIX before
  the application (a 35=2 sent by hand gets answers QuickFIX then ignores); lowering the
  expected number (Session.setNextTargetMsgSeqNum) makes QuickFIX send its own
  ResendRequest on the next message and deliver the resent ones.
- Raising quickfix.IncorrectTagValue(tag) in fromApp makes QuickFIX send the 35=3 (with
  RefSeqNum, RefTagID, RefMsgType, SessionRejectReason 5 and a fixed Text); raising
  UnsupportedMessageType gives a 35=j with 380=3 but no BusinessRejectRefID.
- Session.logout() also disables the session: the acceptor then refuses every logon
  ("Session is not enabled for logon") until Session.logon() enables it again.
- SocketAcceptPort=0 does not work: the acceptor files its session under the port it got
  but looks an incoming connection up under 0, and the logon fails. So PeerProcess picks
  the port and holds it (reserve_port) while the peer runs and between restarts.

Test fixture:

    from tests.routing.peer_engine import PeerProcess

    @pytest.fixture
    def peer(tmp_path):
        p = PeerProcess(tmp_path / "peer", behaviour={"mode": "fill"})
        p.start()        # returns once it listens (the READY line), or raises
        yield p          # the gateway connects to 127.0.0.1:p.port as RUSHTRADE -> ROUTER;
                         # p.control("wait_logon"), p.control("set", mode="rest"),
                         # p.restart() (same port and store), p.kill() then p.start()
        p.stop()         # SIGTERM (it logs out), SIGKILL after 15 s; frees the port
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import importlib.metadata
import itertools
import json
import logging
import os
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import quickfix as qf

logger = logging.getLogger("peer")

BEGIN_STRING = "FIX.4.2"
SOH = "\x01"

# FIX 4.2 tag numbers.
ACCOUNT = 1
AVG_PX = 6
BEGIN_SEQ_NO = 7
CL_ORD_ID = 11
CUM_QTY = 14
END_SEQ_NO = 16
EXEC_ID = 17
EXEC_REF_ID = 19
EXEC_TRANS_TYPE = 20
LAST_PX = 31
LAST_SHARES = 32
MSG_SEQ_NUM = 34
MSG_TYPE = 35
NEW_SEQ_NO = 36
ORDER_ID = 37
ORDER_QTY = 38
ORD_STATUS = 39
ORD_TYPE = 40
ORIG_CL_ORD_ID = 41
POSS_DUP_FLAG = 43
PRICE = 44
REF_SEQ_NUM = 45
SENDER_COMP_ID = 49
SIDE = 54
SYMBOL = 55
TEXT = 58
TRANSACT_TIME = 60
POSS_RESEND = 97
CXL_REJ_REASON = 102
ORD_REJ_REASON = 103
TEST_REQ_ID = 112
GAP_FILL_FLAG = 123
EXEC_TYPE = 150
LEAVES_QTY = 151
REF_TAG_ID = 371
REF_MSG_TYPE = 372
SESSION_REJECT_REASON = 373
BUSINESS_REJECT_REF_ID = 379
BUSINESS_REJECT_REASON = 380
CXL_REJ_RESPONSE_TO = 434

# What a record of a message holds, by tag (header flags are handled apart).
RECORD_FIELDS = {
    CL_ORD_ID: "cl_ord_id",
    ORIG_CL_ORD_ID: "orig_cl_ord_id",
    ORDER_ID: "order_id",
    EXEC_ID: "exec_id",
    EXEC_REF_ID: "exec_ref_id",
    EXEC_TRANS_TYPE: "exec_trans_type",
    EXEC_TYPE: "exec_type",
    ORD_STATUS: "ord_status",
    LAST_SHARES: "last_shares",
    LAST_PX: "last_px",
    CUM_QTY: "cum_qty",
    LEAVES_QTY: "leaves_qty",
    AVG_PX: "avg_px",
    ORDER_QTY: "order_qty",
    ORD_TYPE: "ord_type",
    PRICE: "price",
    SYMBOL: "symbol",
    SIDE: "side",
    TRANSACT_TIME: "transact_time",
    TEXT: "text",
    REF_SEQ_NUM: "ref_seq_num",
    REF_TAG_ID: "ref_tag_id",
    REF_MSG_TYPE: "ref_msg_type",
    SESSION_REJECT_REASON: "session_reject_reason",
    BUSINESS_REJECT_REF_ID: "business_reject_ref_id",
    BUSINESS_REJECT_REASON: "business_reject_reason",
    BEGIN_SEQ_NO: "begin_seq_no",
    END_SEQ_NO: "end_seq_no",
    NEW_SEQ_NO: "new_seq_no",
    GAP_FILL_FLAG: "gap_fill_flag",
    TEST_REQ_ID: "test_req_id",
    CXL_REJ_RESPONSE_TO: "cxl_rej_response_to",
    CXL_REJ_REASON: "cxl_rej_reason",
}

EXIT_PORT_IN_USE = 3  # the exit status when the FIX port cannot be listened on
ADMIN_MSG_TYPES = {"0", "1", "2", "3", "4", "5", "A"}
ORD_TYPE_NAMES = {"1": "market", "2": "limit", "3": "stop", "4": "stop limit"}
OPEN = {"0", "1"}  # OrdStatus of an order that can still trade
UNSOLICITED_ENDS = {"canceled": "4", "done_for_day": "3", "expired": "C"}


# --- behaviours -------------------------------------------------------------------------


@dataclass
class Behaviour:
    mode: str = "fill"
    ack: bool = False
    fill_price: str | None = None
    default_price: str = "100"
    partials: int = 3
    partial_order: str = "reverse"
    reject_ord_types: list[str] = field(default_factory=lambda: ["1", "3"])
    reject_style: str = "custom"
    unsupported: list[str] = field(default_factory=lambda: ["G"])
    bmr_reason: int = 3
    ignore: list[str] = field(default_factory=list)
    transact_time: bool = True
    order_ids: str = "unique"
    status_exec_id: str = "zero"
    unknown_status: str = "report"
    bust_last_shares: str = "zero"

    CHOICES = {
        "mode": ("fill", "rest", "partial"),
        "reject_style": ("custom", "quickfix"),
        "order_ids": ("unique", "per_run"),
        "status_exec_id": ("zero", "numbered"),
        "unknown_status": ("report", "bmr"),
        "bust_last_shares": ("zero", "busted"),
    }

    def update(self, values: dict[str, Any]) -> None:
        """Apply `values` (JSON values, or strings as typed on the command line); all or
        nothing."""
        new = copy.deepcopy(self)
        known = {f.name: f for f in dataclasses.fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown behaviour {key!r} (known: {', '.join(known)})")
            setattr(new, key, _coerce(key, known[key].type, value))
        new.check()
        for key in known:
            setattr(self, key, getattr(new, key))

    def check(self) -> None:
        for key, allowed in self.CHOICES.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"{key} must be one of {allowed}, not {getattr(self, key)!r}")
        for key in ("fill_price", "default_price"):
            if getattr(self, key) is not None:
                decimal(getattr(self, key), key)
        if self.partials < 1:
            raise ValueError("partials must be at least 1")
        permutation(self.partial_order, self.partials)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(key: str, kind: str, value: Any) -> Any:
    text = value if isinstance(value, str) else None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if text is not None and text.lower() in ("1", "y", "yes", "true", "on"):
            return True
        if text is not None and text.lower() in ("0", "n", "no", "false", "off"):
            return False
        raise ValueError(f"{key} takes true or false, not {value!r}")
    if kind == "int":
        return int(value)
    if kind == "list[str]":
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        return [v.strip() for v in str(value).split(",") if v.strip()]
    if kind == "str | None":
        if value is None or (text is not None and text.lower() in ("", "none", "null")):
            return None
        return str(value)
    return str(value)


def decimal(value: Any, what: str = "value") -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what}: not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what}: not a number: {value!r}")
    return number


def permutation(spec: str, n: int) -> list[int]:
    """The 0-based order in which n reports go out."""
    if spec == "reverse":
        return list(reversed(range(n)))
    if spec == "in_order":
        return list(range(n))
    try:
        order = [int(part) - 1 for part in spec.split(",")]
    except ValueError:
        raise ValueError(f"order must be reverse, in_order or like '2,1,3', not {spec!r}") from None
    if sorted(order) != list(range(len(order))):
        raise ValueError(f"order {spec!r} is not a permutation of 1..{len(order)}")
    return order


def fmt(number: Decimal) -> str:
    """A decimal on the wire: no exponent, no trailing zeros."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def split_quantity(qty: Decimal, parts: int) -> list[Decimal]:
    if qty == qty.to_integral_value():
        total = int(qty)
        parts = max(1, min(parts, total))
        base, extra = divmod(total, parts)
        return [Decimal(base + (1 if i < extra else 0)) for i in range(parts)]
    piece = (qty / parts).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
    return [piece] * (parts - 1) + [qty - piece * (parts - 1)]


def utc_timestamp() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y%m%d-%H:%M:%S.") + f"{now.microsecond // 1000:03d}"


# --- the order book ---------------------------------------------------------------------


@dataclass
class Fill:
    exec_id: str
    qty: Decimal
    px: Decimal
    exec_type: str  # 1 or 2, as reported
    busted: bool = False
    corrected_by: str | None = None
    corrects: str | None = None

    @property
    def live(self) -> bool:
        return not self.busted and self.corrected_by is None


@dataclass
class Order:
    cl_ord_id: str
    order_id: str
    symbol: str
    side: str
    qty: Decimal
    ord_type: str
    price: Decimal | None
    account: str | None
    status: str = "A"  # pending new until the first report
    cancel_cl_ord_ids: list[str] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)

    @property
    def cum_qty(self) -> Decimal:
        return sum((f.qty for f in self.fills if f.live), Decimal(0))

    @property
    def avg_px(self) -> Decimal:
        live = [f for f in self.fills if f.live]
        qty = sum((f.qty for f in live), Decimal(0))
        if not qty:
            return Decimal(0)
        return (sum((f.qty * f.px for f in live), Decimal(0)) / qty).quantize(Decimal("0.000001"))

    @property
    def leaves_qty(self) -> Decimal:
        return self.qty - self.cum_qty if self.status in OPEN | {"A"} else Decimal(0)

    def trading_status(self) -> str:
        """OrdStatus from the fills, for an order not ended by a cancel or an expiry."""
        cum = self.cum_qty
        if cum >= self.qty:
            return "2"
        return "1" if cum > 0 else "0"

    def as_dict(self) -> dict[str, Any]:
        return {
            "cl_ord_id": self.cl_ord_id,
            "cancel_cl_ord_ids": self.cancel_cl_ord_ids,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "side": self.side,
            "qty": fmt(self.qty),
            "ord_type": self.ord_type,
            "price": None if self.price is None else fmt(self.price),
            "status": self.status,
            "cum_qty": fmt(self.cum_qty),
            "leaves_qty": fmt(self.leaves_qty),
            "avg_px": fmt(self.avg_px),
            "fills": [
                {
                    "exec_id": f.exec_id,
                    "qty": fmt(f.qty),
                    "px": fmt(f.px),
                    "busted": f.busted,
                    "corrected_by": f.corrected_by,
                    "corrects": f.corrects,
                }
                for f in self.fills
            ],
        }


class CommandError(Exception):
    """A control command that cannot be done (its text goes back as the error)."""


def field_of(fields: qf.FieldMap, tag: int) -> str | None:
    return fields.getField(tag) if fields.isSetField(tag) else None


def record_of(message: qf.Message, direction: str) -> dict[str, Any]:
    header = message.getHeader()
    msg_type = field_of(header, MSG_TYPE) or ""
    seq = field_of(header, MSG_SEQ_NUM)
    record: dict[str, Any] = {
        "dir": direction,
        "msg_type": msg_type,
        "admin": msg_type in ADMIN_MSG_TYPES,
        "seq": int(seq) if seq else None,
        "poss_dup": field_of(header, POSS_DUP_FLAG) == "Y",
        "poss_resend": field_of(header, POSS_RESEND) == "Y",
    }
    for tag, name in RECORD_FIELDS.items():
        value = field_of(message, tag)
        if value is not None:
            record[name] = value
    record["fix"] = message.toString().replace(SOH, "|")
    return record


def matches(record: dict[str, Any], filters: dict[str, Any]) -> bool:
    for key, wanted in filters.items():
        have = record.get(key)
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(_same(have, option) for option in options):
            return False
    return True


def _same(have: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return bool(have) == wanted
    if wanted is None:
        return have is None
    return have is not None and str(have) == str(wanted)


# --- the engine -------------------------------------------------------------------------


class PeerEngine(qf.Application):
    """The QuickFIX application. Callbacks come on QuickFIX's thread, commands on the
    control server's threads.

    Locks: `book` (re-entrant) is held while deciding and sending reports, so the reports
    of one action go out together and in order; `records` (a Condition) guards what was
    received and sent and wakes the `wait_*` commands. QuickFIX holds its session mutex
    while calling toApp/toAdmin, which take only `records`, never `book`: no cycle.
    """

    def __init__(self, sender: str, target: str, behaviour: Behaviour, log_dir: Path):
        super().__init__()
        self.session_id = qf.SessionID(BEGIN_STRING, sender, target)
        self.startup_behaviour = copy.deepcopy(behaviour)
        self.behaviour = behaviour
        self.log_dir = log_dir
        self.run = f"r{time.time_ns() // 1_000_000:x}"
        self._exec_ids = itertools.count(1)
        self._order_ids = itertools.count(1)
        self.book = threading.RLock()
        self.orders: dict[str, Order] = {}  # by each ClOrdID: the order's and its cancels'
        self.orders_by_id: dict[str, Order] = {}
        self.fills: dict[str, tuple[Order, Fill]] = {}
        self.records = threading.Condition()
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.logged_on = False
        self.logons = 0

    # QuickFIX callbacks. Only the QuickFIX exceptions raised on purpose may leave one:
    # anything else would make the binding end the process from QuickFIX's thread.

    def onCreate(self, session_id):
        pass

    def onLogon(self, session_id):
        with self.records:
            self.logged_on = True
            self.logons += 1
            self.records.notify_all()
        logger.info("logon %s", session_id.toString())

    def onLogout(self, session_id):
        with self.records:
            self.logged_on = False
            self.records.notify_all()
        logger.info("logout %s", session_id.toString())

    def toAdmin(self, message, session_id):
        self._guarded("toAdmin", self._record, self.sent, message, "out")

    def toApp(self, message, session_id):
        self._guarded("toApp", self._record, self.sent, message, "out")

    def fromAdmin(self, message, session_id):
        self._guarded("fromAdmin", self._record, self.received, message, "in")

    def fromApp(self, message, session_id):
        # Recorded once answered: a `wait_received` that sees it sees the answer handed to
        # QuickFIX too.
        record = self._guarded("fromApp", record_of, message, "in")
        if record is None:
            return
        try:
            record["answer"] = self._answer(message, record)
        except (qf.IncorrectTagValue, qf.FieldNotFound, qf.UnsupportedMessageType) as exc:
            record["answer"] = f"left to QuickFIX ({type(exc).__name__} raised)"
            raise
        except Exception:
            self._error("fromApp", traceback.format_exc())
            record["answer"] = "error: see errors"
        finally:
            self._append(self.received, record)

    def _guarded(self, where, fn, *args):
        try:
            return fn(*args)
        except Exception:
            self._error(where, traceback.format_exc())
            return None

    def _error(self, where: str, text: str) -> None:
        logger.error("%s: %s", where, text)
        with self.records:
            self.errors.append(f"{where}: {text}")

    def _record(self, into: list, message: qf.Message, direction: str) -> None:
        self._append(into, record_of(message, direction))

    def _append(self, into: list, record: dict[str, Any]) -> None:
        with self.records:
            record["i"] = len(into)
            into.append(record)
            self.records.notify_all()

    # --- sending ---------------------------------------------------------------------

    def send(self, message: qf.Message) -> bool:
        """Through the session (sequence number, store, toApp/toAdmin). False when not
        logged on: QuickFIX has stored it and it goes out in the resend after a logon."""
        qf.Session.sendToTarget(message, self.session_id)  # True even when only stored
        return self.logged_on

    def session(self) -> qf.Session:
        session = qf.Session.lookupSession(self.session_id)
        if session is None:
            raise CommandError("the FIX session does not exist")
        return session

    def next_exec_id(self) -> str:
        return str(next(self._exec_ids))

    def execution_report(
        self,
        order: Order,
        *,
        exec_type: str,
        ord_status: str,
        exec_trans_type: str = "0",
        exec_id: str | None = None,
        last_shares: Decimal | None = Decimal(0),
        last_px: Decimal | None = Decimal(0),
        cum_qty: Decimal | None = None,
        leaves_qty: Decimal | None = None,
        avg_px: Decimal | None = None,
        exec_ref_id: str | None = None,
        cl_ord_id: str | None = None,
        orig_cl_ord_id: str | None = None,
        text: str | None = None,
        transact_time: bool | None = None,
    ) -> qf.Message:
        message = qf.Message()
        message.getHeader().setField(MSG_TYPE, "8")
        message.setField(ORDER_ID, order.order_id)
        message.setField(CL_ORD_ID, cl_ord_id or order.cl_ord_id)
        if orig_cl_ord_id:
            message.setField(ORIG_CL_ORD_ID, orig_cl_ord_id)
        message.setField(EXEC_ID, exec_id or self.next_exec_id())
        message.setField(EXEC_TRANS_TYPE, exec_trans_type)
        if exec_ref_id:
            message.setField(EXEC_REF_ID, exec_ref_id)
        message.setField(EXEC_TYPE, exec_type)
        message.setField(ORD_STATUS, ord_status)
        if order.account:
            message.setField(ACCOUNT, order.account)
        message.setField(SYMBOL, order.symbol)
        message.setField(SIDE, order.side)
        message.setField(ORDER_QTY, fmt(order.qty))
        message.setField(ORD_TYPE, order.ord_type)
        if order.price is not None:
            message.setField(PRICE, fmt(order.price))
        if last_shares is not None:
            message.setField(LAST_SHARES, fmt(last_shares))
        if last_px is not None:
            message.setField(LAST_PX, fmt(last_px))
        message.setField(LEAVES_QTY, fmt(order.leaves_qty if leaves_qty is None else leaves_qty))
        message.setField(CUM_QTY, fmt(order.cum_qty if cum_qty is None else cum_qty))
        message.setField(AVG_PX, fmt(order.avg_px if avg_px is None else avg_px))
        if self.behaviour.transact_time if transact_time is None else transact_time:
            message.setField(TRANSACT_TIME, utc_timestamp())
        if text:
            message.setField(TEXT, text)
        return message

    def session_reject(
        self,
        ref_seq_num: int | None,
        ref_msg_type: str,
        ref_tag: int | None,
        reason: int | None,
        text: str,
    ) -> qf.Message:
        message = qf.Message()
        message.getHeader().setField(MSG_TYPE, "3")
        if ref_seq_num is not None:
            message.setField(REF_SEQ_NUM, str(ref_seq_num))
        if ref_tag is not None:
            message.setField(REF_TAG_ID, str(ref_tag))
        message.setField(REF_MSG_TYPE, ref_msg_type)
        if reason is not None:
            message.setField(SESSION_REJECT_REASON, str(reason))
        message.setField(TEXT, text)
        return message

    def business_reject(
        self, ref_seq_num: int | None, ref_msg_type: str, ref_id: str | None, reason: int, text: str
    ) -> qf.Message:
        message = qf.Message()
        message.getHeader().setField(MSG_TYPE, "j")
        if ref_seq_num is not None:
            message.setField(REF_SEQ_NUM, str(ref_seq_num))
        message.setField(REF_MSG_TYPE, ref_msg_type)
        if ref_id:
            message.setField(BUSINESS_REJECT_REF_ID, ref_id)
        message.setField(BUSINESS_REJECT_REASON, str(reason))
        message.setField(TEXT, text)
        return message

    # --- answering what the gateway sends ----------------------------------------------

    def _answer(self, message: qf.Message, record: dict[str, Any]) -> str:
        msg_type = record["msg_type"]
        behaviour = self.behaviour
        if msg_type == "j":
            return "none (a BusinessMessageReject is never answered)"
        if msg_type in behaviour.ignore:
            return "none (ignored)"
        if msg_type in behaviour.unsupported or msg_type not in ("D", "F", "H"):
            reason = behaviour.bmr_reason
            text = f"MsgType {msg_type} is not supported"
            self.send(
                self.business_reject(record["seq"], msg_type, record.get("cl_ord_id"), reason, text)
            )
            return f"business reject (380={reason})"
        if msg_type == "D":
            return self._new_order(message, record)
        if msg_type == "F":
            return self._cancel_request(message, record)
        return self._status_request(message, record)

    def _new_order(self, message: qf.Message, record: dict[str, Any]) -> str:
        behaviour = self.behaviour
        cl_ord_id = record["cl_ord_id"]
        ord_type = record["ord_type"]
        with self.book:
            if cl_ord_id in self.orders:
                if record["poss_dup"]:
                    return "none (possible duplicate of a known ClOrdID)"
                duplicate = self._order_from(message, record, order_id="NONE")
                self.send(
                    self.execution_report(
                        duplicate,
                        exec_type="8",
                        ord_status="8",
                        cum_qty=Decimal(0),
                        leaves_qty=Decimal(0),
                        avg_px=Decimal(0),
                        text="Duplicate ClOrdID",
                    )
                )
                return "rejected (duplicate ClOrdID)"
            if ord_type in behaviour.reject_ord_types:
                if behaviour.reject_style == "quickfix":
                    raise qf.IncorrectTagValue(ORD_TYPE)
                name = ORD_TYPE_NAMES.get(ord_type, "unknown")
                self.send(
                    self.session_reject(
                        record["seq"],
                        "D",
                        ORD_TYPE,
                        5,
                        f"Order type {ord_type} ({name}) is not accepted",
                    )
                )
                return "session reject (OrdType)"
            order = self._order_from(message, record, order_id=self._new_order_id())
            self.orders[cl_ord_id] = order
            self.orders_by_id[order.order_id] = order
            if order.qty <= 0:
                order.status = "8"
                self.send(
                    self.execution_report(
                        order, exec_type="8", ord_status="8", text="OrderQty is required"
                    )
                )
                return "rejected (no OrderQty)"
            if behaviour.mode == "rest" or behaviour.ack:
                order.status = "0"
                self.send(self.execution_report(order, exec_type="0", ord_status="0"))
            if behaviour.mode == "rest":
                return "acknowledged, resting"
            price = self._fill_price(order, None)
            parts = 1 if behaviour.mode == "fill" else behaviour.partials
            exec_ids = self._fill(order, order.qty, price, parts, behaviour.partial_order, None)
            return f"filled ({', '.join(exec_ids)})"

    def _order_from(self, message: qf.Message, record: dict[str, Any], order_id: str) -> Order:
        return Order(
            cl_ord_id=record["cl_ord_id"],
            order_id=order_id,
            symbol=record["symbol"],
            side=record["side"],
            qty=decimal(record.get("order_qty") or "0", "OrderQty"),
            ord_type=record["ord_type"],
            price=decimal(record["price"], "Price") if record.get("price") else None,
            account=field_of(message, ACCOUNT),
        )

    def _new_order_id(self) -> str:
        number = next(self._order_ids)
        return f"O{number}" if self.behaviour.order_ids == "per_run" else f"{self.run}-{number}"

    def _fill_price(self, order: Order, price: Any) -> Decimal:
        if price is not None:
            return decimal(price, "price")
        if self.behaviour.fill_price is not None:
            return decimal(self.behaviour.fill_price)
        if order.price is not None:
            return order.price
        return decimal(self.behaviour.default_price)

    def _fill(
        self,
        order: Order,
        qty: Decimal,
        price: Decimal,
        parts: int,
        order_spec: str,
        transact_time: bool | None,
    ) -> list[str]:
        """Fills `qty` of `order` in `parts` reports sent in `order_spec`; their ExecIDs in
        the order sent. Called with `book` held."""
        pieces = split_quantity(qty, parts)
        sequence = permutation(order_spec, len(pieces))
        if len(sequence) != len(pieces):
            raise CommandError(
                f"order {order_spec!r} names {len(sequence)} reports, there are {len(pieces)}"
            )
        reports = []
        for piece in pieces:
            exec_id = self.next_exec_id()
            order.fills.append(Fill(exec_id, piece, price, "1"))
            status = order.trading_status()
            order.fills[-1].exec_type = "2" if status == "2" else "1"
            order.status = status
            reports.append(
                (
                    exec_id,
                    self.execution_report(
                        order,
                        exec_id=exec_id,
                        exec_type=order.fills[-1].exec_type,
                        ord_status=status,
                        last_shares=piece,
                        last_px=price,
                        transact_time=transact_time,
                    ),
                )
            )
            self.fills[exec_id] = (order, order.fills[-1])
        sent = []
        for index in sequence:
            exec_id, report = reports[index]
            self.send(report)
            sent.append(exec_id)
        return sent

    def _cancel_request(self, message: qf.Message, record: dict[str, Any]) -> str:
        cl_ord_id = record["cl_ord_id"]
        orig = record.get("orig_cl_ord_id")
        with self.book:
            order = self.orders.get(orig) if orig else None
            if order is None or order.status not in OPEN:
                reject = qf.Message()
                reject.getHeader().setField(MSG_TYPE, "9")
                reject.setField(ORDER_ID, order.order_id if order else "NONE")
                reject.setField(CL_ORD_ID, cl_ord_id)
                reject.setField(ORIG_CL_ORD_ID, orig or "")
                reject.setField(ORD_STATUS, order.status if order else "8")
                reject.setField(CXL_REJ_RESPONSE_TO, "1")
                reject.setField(CXL_REJ_REASON, "0" if order else "1")
                reject.setField(TEXT, "Too late to cancel" if order else "Unknown order")
                self.send(reject)
                return "cancel rejected (35=9)"
            order.status = "4"
            order.cancel_cl_ord_ids.append(cl_ord_id)
            self.orders[cl_ord_id] = order
            self.send(
                self.execution_report(
                    order,
                    exec_type="4",
                    ord_status="4",
                    cl_ord_id=cl_ord_id,
                    orig_cl_ord_id=order.cl_ord_id,
                )
            )
            return "canceled"

    def _status_request(self, message: qf.Message, record: dict[str, Any]) -> str:
        cl_ord_id = record["cl_ord_id"]
        with self.book:
            order = self.orders.get(cl_ord_id) or self.orders_by_id.get(record.get("order_id", ""))
            numbered = self.behaviour.status_exec_id == "numbered"
            if order is not None:
                status = order.status if order.status != "A" else "0"
                self.send(
                    self.execution_report(
                        order,
                        exec_trans_type="3",
                        exec_type=status,
                        ord_status=status,
                        exec_id=self.next_exec_id() if numbered else "0",
                        last_shares=None,
                        last_px=None,
                        cl_ord_id=cl_ord_id,
                    )
                )
                return f"status report (39={status})"
            if self.behaviour.unknown_status == "bmr":
                self.send(self.business_reject(record["seq"], "H", cl_ord_id, 1, "Unknown order"))
                return "business reject (unknown order)"
            unknown = Order(
                cl_ord_id=cl_ord_id,
                order_id="NONE",
                symbol=record["symbol"],
                side=record["side"],
                qty=Decimal(0),
                ord_type="",
                price=None,
                account=None,
                status="8",
            )
            report = self.execution_report(
                unknown,
                exec_trans_type="3",
                exec_type="8",
                ord_status="8",
                exec_id=self.next_exec_id() if numbered else "0",
                last_shares=None,
                last_px=None,
                cum_qty=Decimal(0),
                leaves_qty=Decimal(0),
                avg_px=Decimal(0),
                text="Unknown order",
            )
            report.removeField(ORDER_QTY)
            report.removeField(ORD_TYPE)
            self.send(report)
            return "status report (unknown order)"

    # --- what the control commands do -------------------------------------------------

    def order_for(self, cl_ord_id: str) -> Order:
        order = self.orders.get(cl_ord_id)
        if order is None:
            raise CommandError(f"no order with ClOrdID {cl_ord_id!r}")
        return order

    def fill_resting(
        self, cl_ord_id, qty=None, price=None, parts=1, order="reverse", transact_time=None
    ) -> list[str]:
        with self.book:
            target = self.order_for(cl_ord_id)
            if target.status not in OPEN:
                raise CommandError(f"order {cl_ord_id} is not open (39={target.status})")
            leaves = target.leaves_qty
            amount = leaves if qty is None else decimal(qty, "qty")
            if not 0 < amount <= leaves:
                raise CommandError(f"qty must be > 0 and <= LeavesQty {fmt(leaves)}")
            return self._fill(
                target, amount, self._fill_price(target, price), int(parts), order, transact_time
            )

    def bust(self, exec_id=None, cl_ord_id=None, ord_status=None, text=None) -> dict:
        with self.book:
            order, fill = self._fill_to_change(exec_id, cl_ord_id)
            fill.busted = True
            if ord_status is not None:
                order.status = str(ord_status)
            elif order.status in OPEN | {"2"}:
                order.status = order.trading_status()
            new_id = self.next_exec_id()
            busted = self.behaviour.bust_last_shares == "busted"
            delivered = self.send(
                self.execution_report(
                    order,
                    exec_trans_type="1",
                    exec_id=new_id,
                    exec_ref_id=fill.exec_id,
                    exec_type=fill.exec_type,
                    ord_status=order.status,
                    last_shares=fill.qty if busted else Decimal(0),
                    last_px=fill.px if busted else Decimal(0),
                    text=text or "Trade busted",
                )
            )
            return {
                "exec_id": new_id,
                "exec_ref_id": fill.exec_id,
                "ord_status": order.status,
                "delivered": delivered,
            }

    def correct(self, exec_id, qty=None, price=None, text=None) -> dict:
        with self.book:
            order, fill = self._fill_to_change(exec_id, None)
            new_qty = fill.qty if qty is None else decimal(qty, "qty")
            new_px = fill.px if price is None else decimal(price, "price")
            if new_qty <= 0 or order.cum_qty - fill.qty + new_qty > order.qty:
                raise CommandError("the corrected quantity must be > 0 and keep CumQty <= OrderQty")
            new_id = self.next_exec_id()
            fill.corrected_by = new_id
            corrected = Fill(new_id, new_qty, new_px, fill.exec_type, corrects=fill.exec_id)
            order.fills.append(corrected)
            self.fills[new_id] = (order, corrected)
            if order.status in OPEN | {"2"}:
                order.status = order.trading_status()
            delivered = self.send(
                self.execution_report(
                    order,
                    exec_trans_type="2",
                    exec_id=new_id,
                    exec_ref_id=fill.exec_id,
                    exec_type=fill.exec_type,
                    ord_status=order.status,
                    last_shares=new_qty,
                    last_px=new_px,
                    text=text or "Trade corrected",
                )
            )
            return {
                "exec_id": new_id,
                "exec_ref_id": fill.exec_id,
                "ord_status": order.status,
                "delivered": delivered,
            }

    def _fill_to_change(self, exec_id, cl_ord_id) -> tuple[Order, Fill]:
        if exec_id is not None:
            found = self.fills.get(str(exec_id))
            if found is None:
                raise CommandError(f"no fill with ExecID {exec_id!r} in this run")
            if not found[1].live:
                raise CommandError(f"ExecID {exec_id} was already busted or corrected")
            return found
        if cl_ord_id is None:
            raise CommandError("give exec_id or cl_ord_id")
        order = self.order_for(cl_ord_id)
        live = [f for f in order.fills if f.live]
        if not live:
            raise CommandError(f"order {cl_ord_id} has no live fill")
        return order, live[-1]

    def unsolicited_end(self, cl_ord_id, reason="canceled", text=None) -> dict:
        if reason not in UNSOLICITED_ENDS:
            raise CommandError(f"reason must be one of {sorted(UNSOLICITED_ENDS)}")
        status = UNSOLICITED_ENDS[reason]
        with self.book:
            order = self.order_for(cl_ord_id)
            if order.status not in OPEN:
                raise CommandError(f"order {cl_ord_id} is not open (39={order.status})")
            order.status = status
            exec_id = self.next_exec_id()
            default = {"4": "Canceled by the engine", "3": "Done for day", "C": "Expired (DAY)"}
            delivered = self.send(
                self.execution_report(
                    order,
                    exec_type=status,
                    ord_status=status,
                    exec_id=exec_id,
                    text=text or default[status],
                )
            )
            return {"exec_id": exec_id, "ord_status": status, "delivered": delivered}


# --- control server ---------------------------------------------------------------------


class Control:
    """The control commands: `cmd_<name>(**arguments)` -> dict merged into the reply."""

    def __init__(self, engine: PeerEngine, fix_port: int, quit_event: threading.Event):
        self.engine = engine
        self.fix_port = fix_port
        self.quit_event = quit_event
        self.quit_graceful = True
        self.control_port = 0

    def dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        request = dict(request)
        name = request.pop("cmd", None)
        handler = getattr(self, f"cmd_{name}", None) if isinstance(name, str) else None
        if handler is None:
            return {"ok": False, "error": f"unknown command {name!r}"}
        try:
            result = handler(**request)
        except (CommandError, ValueError, TypeError) as exc:
            return {"ok": False, "error": str(exc)}
        except Exception:
            self.engine._error(f"command {name}", traceback.format_exc())
            return {"ok": False, "error": traceback.format_exc(limit=3)}
        if "ok" not in result:
            result = {"ok": True, **result}
        return result

    def _session_state(self) -> dict[str, Any]:
        engine = self.engine
        session = qf.Session.lookupSession(engine.session_id)
        with engine.records:
            state = {"logged_on": engine.logged_on, "logons": engine.logons}
        if session is not None:
            state["next_sender_seq"] = session.getExpectedSenderNum()
            state["next_target_seq"] = session.getExpectedTargetNum()
        return state

    def cmd_ping(self) -> dict:
        with self.engine.records:
            errors = list(self.engine.errors)
        return {
            "pid": os.getpid(),
            "run": self.engine.run,
            "fix_port": self.fix_port,
            "control_port": self.control_port,
            "logged_on": self.engine.logged_on,
            "errors": errors,
        }

    def cmd_session(self) -> dict:
        return self._session_state()

    def _wait(self, condition, timeout) -> bool:
        with self.engine.records:
            return self.engine.records.wait_for(condition, timeout=float(timeout))

    def cmd_wait_logon(self, count: int = 1, timeout: float = 10) -> dict:
        engine = self.engine
        if not self._wait(lambda: engine.logged_on and engine.logons >= int(count), timeout):
            return {"ok": False, "error": "timeout", **self._session_state()}
        return self._session_state()

    def cmd_wait_logout(self, timeout: float = 10) -> dict:
        if not self._wait(lambda: not self.engine.logged_on, timeout):
            return {"ok": False, "error": "timeout", **self._session_state()}
        return self._session_state()

    def cmd_set(self, **values) -> dict:
        with self.engine.book:
            self.engine.behaviour.update(values)
            return {"behaviour": self.engine.behaviour.as_dict()}

    def cmd_reset_behaviour(self) -> dict:
        with self.engine.book:
            self.engine.behaviour = copy.deepcopy(self.engine.startup_behaviour)
            return {"behaviour": self.engine.behaviour.as_dict()}

    def _select(self, records: list, since: int, filters: dict) -> list[dict]:
        return [dict(r) for r in records[int(since) :] if matches(r, filters)]

    def cmd_received(self, since: int = 0, **filters) -> dict:
        with self.engine.records:
            return {"messages": self._select(self.engine.received, since, filters)}

    def cmd_sent(self, since: int = 0, **filters) -> dict:
        with self.engine.records:
            return {"messages": self._select(self.engine.sent, since, filters)}

    def _wait_records(self, records, count, since, timeout, filters) -> dict:
        found: list[dict] = []

        def enough():
            found[:] = self._select(records, since, filters)
            return len(found) >= int(count)

        if not self._wait(enough, timeout):
            return {"ok": False, "error": "timeout", "messages": found}
        return {"messages": found}

    def cmd_wait_received(
        self, count: int = 1, since: int = 0, timeout: float = 10, **filters
    ) -> dict:
        return self._wait_records(self.engine.received, count, since, timeout, filters)

    def cmd_wait_sent(self, count: int = 1, since: int = 0, timeout: float = 10, **filters) -> dict:
        return self._wait_records(self.engine.sent, count, since, timeout, filters)

    def cmd_orders(self) -> dict:
        with self.engine.book:
            seen, orders = set(), []
            for order in self.engine.orders.values():
                if id(order) not in seen:
                    seen.add(id(order))
                    orders.append(order.as_dict())
            return {"orders": orders}

    def cmd_fill(
        self,
        cl_ord_id: str,
        qty=None,
        price=None,
        parts: int = 1,
        order: str = "reverse",
        transact_time: bool | None = None,
    ) -> dict:
        if transact_time is not None:
            transact_time = _coerce("transact_time", "bool", transact_time)
        exec_ids = self.engine.fill_resting(cl_ord_id, qty, price, parts, order, transact_time)
        return {"exec_ids": exec_ids, "delivered": self.engine.logged_on}

    def cmd_bust(self, exec_id=None, cl_ord_id=None, ord_status=None, text=None) -> dict:
        return self.engine.bust(exec_id, cl_ord_id, ord_status, text)

    def cmd_correct(self, exec_id, qty=None, price=None, text=None) -> dict:
        return self.engine.correct(exec_id, qty, price, text)

    def cmd_cancel(self, cl_ord_id: str, reason: str = "canceled", text=None) -> dict:
        return self.engine.unsolicited_end(cl_ord_id, reason, text)

    def cmd_resend_request(self, begin: int = 1, end: int = 0) -> dict:
        message = qf.Message()
        message.getHeader().setField(MSG_TYPE, "2")
        message.setField(BEGIN_SEQ_NO, str(int(begin)))
        message.setField(END_SEQ_NO, str(int(end)))
        with self.engine.book:
            seq = self.engine.session().getExpectedSenderNum()
            delivered = self.engine.send(message)
        return {"seq": seq, "delivered": delivered}

    def cmd_expect_target_seq(self, seq: int, test_request: bool = True) -> dict:
        session = self.engine.session()
        with self.engine.book:
            was = session.getExpectedTargetNum()
            session.setNextTargetMsgSeqNum(int(seq))
            if _coerce("test_request", "bool", test_request):
                message = qf.Message()
                message.getHeader().setField(MSG_TYPE, "1")
                message.setField(TEST_REQ_ID, f"peer-{time.time_ns()}")
                self.engine.send(message)
        return {"was": was, "now": int(seq)}

    def cmd_send(self, msg_type: str, fields: dict | None = None) -> dict:
        message = qf.Message()
        message.getHeader().setField(MSG_TYPE, str(msg_type))
        for tag, value in (fields or {}).items():
            message.setField(int(tag), str(value))
        with self.engine.book:
            seq = self.engine.session().getExpectedSenderNum()
            delivered = self.engine.send(message)
        return {"seq": seq, "delivered": delivered}

    def cmd_logout(self, text: str = "", refuse_logons: bool = False, timeout: float = 10) -> dict:
        # Session.logout() also disables the session, and a disabled acceptor session
        # refuses logons: enabled again (Session.logon()) once the logout is done.
        session = self.engine.session()
        session.logout(text)
        if not self._wait(lambda: not self.engine.logged_on, timeout):
            return {"ok": False, "error": "timeout", **self._session_state()}
        if not _coerce("refuse_logons", "bool", refuse_logons):
            session.logon()
        return self._session_state()

    def cmd_allow_logons(self) -> dict:
        self.engine.session().logon()
        return self._session_state()

    def _log_file(self, kind: str) -> Path:
        sid = self.engine.session_id
        name = (
            f"{sid.getBeginString().getValue()}-{sid.getSenderCompID().getValue()}-"
            f"{sid.getTargetCompID().getValue()}.{kind}.current.log"
        )
        return self.engine.log_dir / name

    def cmd_wire(self, direction: str = "in", since_line: int = 0) -> dict:
        path = self._log_file("messages")
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        target = self.engine.session_id.getTargetCompID().getValue()
        out = []
        for number, line in enumerate(lines[int(since_line) :], start=int(since_line)):
            _, _, fix = line.partition(" : ")
            incoming = f"{SOH}{SENDER_COMP_ID}={target}{SOH}" in fix
            if direction == "all" or (direction == "in") == incoming:
                out.append({"line": number, "in": incoming, "fix": fix.replace(SOH, "|")})
        return {"lines": out}

    def cmd_events(self, tail: int = 50) -> dict:
        path = self._log_file("event")
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return {"lines": lines[-int(tail) :]}

    def cmd_quit(self, logout: bool = True) -> dict:
        self.quit_graceful = _coerce("logout", "bool", logout)
        return {"quitting": True}


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        control: Control = self.server.control  # type: ignore[attr-defined]
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            request: dict[str, Any] = {}
            try:
                request = parse_request(line)
            except ValueError as exc:
                reply = {"ok": False, "error": str(exc)}
            else:
                reply = control.dispatch(request)
            self.wfile.write(json.dumps(reply).encode() + b"\n")
            self.wfile.flush()
            if request.get("cmd") == "quit" and reply.get("ok"):
                if not control.quit_graceful:
                    os._exit(0)  # a crash: no logout, nothing flushed by QuickFIX
                control.quit_event.set()
                return


def parse_request(line: str) -> dict[str, Any]:
    """A JSON object, or `cmd key=value ...` typed by hand (values JSON where they parse)."""
    if line.startswith("{"):
        try:
            request = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object")
        return request
    name, *pairs = line.split()
    request: dict[str, Any] = {"cmd": name}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {pair!r}")
        try:
            request[key] = json.loads(value)
        except json.JSONDecodeError:
            request[key] = value
    return request


class ControlServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int, control: Control):
        super().__init__(("127.0.0.1", port), _Handler)
        self.control = control


# --- process ----------------------------------------------------------------------------


def data_dictionary(version: str = "FIX42") -> Path:
    """The FIX42.xml installed with the quickfix package (`<prefix>/share/quickfix/`)."""
    candidates = [Path(sys.prefix) / "share" / "quickfix" / f"{version}.xml"]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        for file in importlib.metadata.files("quickfix") or ():
            if file.name == f"{version}.xml":
                candidates.append(Path(file.locate()))
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise FileNotFoundError(f"{version}.xml of the quickfix package not found")


def acceptor_settings(args: argparse.Namespace) -> qf.SessionSettings:
    # FileLogPath and the rest in [DEFAULT] (the connector-wide log reads it there), the
    # identity in the session, as a .cfg file would have them.
    defaults = {
        "ConnectionType": "acceptor",
        "SocketAcceptPort": str(args.port),
        "SocketReuseAddress": "Y",
        "FileStorePath": str(args.store),
        "FileLogPath": str(args.log),
        "UseDataDictionary": "Y",
        "DataDictionary": str(args.data_dictionary or data_dictionary()),
        "NonStopSession": "Y",
        "ResetOnLogon": "N",
        "ResetOnLogout": "N",
        "ResetOnDisconnect": "N",
        "PersistMessages": "Y",
        "SocketNodelay": "Y",
    }
    if args.allow:
        defaults["AllowedRemoteAddresses"] = args.allow
    dictionary = qf.Dictionary()
    for key, value in defaults.items():
        dictionary.setString(key, value)
    session = qf.Dictionary()
    session.setString("BeginString", BEGIN_STRING)
    session.setString("SenderCompID", args.sender)
    session.setString("TargetCompID", args.target)
    settings = qf.SessionSettings()
    settings.set(dictionary)
    settings.set(qf.SessionID(BEGIN_STRING, args.sender, args.target), session)
    return settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="FIX port to listen on")
    parser.add_argument("--store", type=Path, required=True, help="FileStore directory")
    parser.add_argument("--log", type=Path, required=True, help="FileLog directory")
    parser.add_argument("--sender", default="ROUTER", help="our SenderCompID")
    parser.add_argument("--target", default="RUSHTRADE", help="the gateway's SenderCompID")
    parser.add_argument("--control-port", type=int, default=0, help="0: any free port")
    parser.add_argument("--allow", default="127.0.0.1", help="AllowedRemoteAddresses ('' for any)")
    parser.add_argument("--data-dictionary", type=Path, default=None)
    parser.add_argument(
        "--lifeline",
        action="store_true",
        help="stop (logging out) when stdin reaches EOF: the parent that holds it has gone",
    )
    parser.add_argument("--behaviour", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)

    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s peer[%(process)d] %(levelname)s %(message)s",
    )
    behaviour = Behaviour()
    pairs = {}
    for item in args.behaviour:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--behaviour takes KEY=VALUE, not {item!r}")
        pairs[key.strip()] = value.strip()
    try:
        behaviour.update(pairs)
    except ValueError as exc:
        parser.error(str(exc))
    for directory in (args.store, args.log):
        directory.mkdir(parents=True, exist_ok=True)

    # SIGTERM/SIGINT (and SIGUSR1 from `quit`) are taken by the main thread with sigwait;
    # blocked before any thread starts, so every thread inherits the mask.
    stop_signals = {signal.SIGTERM, signal.SIGINT, signal.SIGUSR1}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    engine = PeerEngine(args.sender, args.target, behaviour, args.log)
    settings = acceptor_settings(args)
    store_factory = qf.FileStoreFactory(settings)
    log_factory = qf.FileLogFactory(settings)
    acceptor = qf.SocketAcceptor(engine, store_factory, settings, log_factory)
    try:
        acceptor.start()  # listening when it returns
    except qf.RuntimeError as exc:  # "Unable to create, bind, or listen to port ..."
        print(f"peer: {exc}", file=sys.stderr, flush=True)
        os._exit(EXIT_PORT_IN_USE)

    quit_event = threading.Event()
    control = Control(engine, args.port, quit_event)
    server = ControlServer(args.control_port, control)
    control.control_port = server.server_address[1]
    threading.Thread(target=server.serve_forever, name="control", daemon=True).start()
    threading.Thread(
        target=lambda: (quit_event.wait(), os.kill(os.getpid(), signal.SIGUSR1)),
        name="quit",
        daemon=True,
    ).start()
    if args.lifeline:
        threading.Thread(
            target=lambda: (sys.stdin.buffer.read(), quit_event.set()), name="lifeline", daemon=True
        ).start()

    ready = {
        "fix_port": args.port,
        "control_port": control.control_port,
        "pid": os.getpid(),
        "run": engine.run,
    }
    print("PEER READY " + json.dumps(ready), flush=True)
    logger.info("ready %s behaviour %s", ready, behaviour.as_dict())

    received = signal.sigwait(stop_signals)
    logger.info("stopping (%s)", signal.Signals(received).name)
    server.shutdown()
    acceptor.stop()  # logs out and waits for the logout (at least a second when logged on)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without running QuickFIX's C++ destructors: at interpreter exit they can crash.
    os._exit(0)


# --- for tests: the process and its control channel -------------------------------------


class PeerError(Exception):
    """A control command answered "ok": false."""

    def __init__(self, reply: dict[str, Any]):
        super().__init__(reply.get("error"))
        self.reply = reply


class PortInUse(RuntimeError):
    """The peer could not listen on its FIX port."""


class PeerControl:
    """One connection to the control channel. `call(cmd, **args)` returns the reply and
    raises PeerError when it is not ok; `request` returns it whatever it says. Thread-safe
    (one request at a time on this connection: use another PeerControl to wait and act at
    the same time)."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 30):
        self.timeout = timeout
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._file = self._sock.makefile("rwb")
        self._lock = threading.Lock()

    def request(self, cmd: str, **args) -> dict[str, Any]:
        wait = float(args.get("timeout", 0))
        with self._lock:
            self._sock.settimeout(self.timeout + wait)
            self._file.write(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
            self._file.flush()
            line = self._file.readline()
        if not line:
            raise ConnectionError("the peer closed the control connection")
        return json.loads(line)

    def call(self, cmd: str, **args) -> dict[str, Any]:
        reply = self.request(cmd, **args)
        if not reply.get("ok"):
            raise PeerError(reply)
        return reply

    __call__ = call

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            self._sock.close()


def reserve_port(port: int = 0) -> socket.socket:
    """A TCP socket bound to `port` (0: a free one) with SO_REUSEADDR, never listening.
    While it is open no connect() or bind(0) elsewhere takes the port, and the peer (whose
    QuickFIX acceptor binds with SO_REUSEADDR too) can still listen on it: Linux lets
    sockets that all have SO_REUSEADDR share a port as long as only one listens."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


class PeerProcess:
    """The peer as a child process of a test: `start()` returns once it listens;
    `control(...)` talks to it; `restart()` keeps the port and the store (sequence
    numbers go on, ExecIDs start again at 1); `stop()` terminates it; `kill()` is a crash.
    The FIX port stays reserved (see reserve_port) from here until `stop()`, so a
    restart finds it free.

    `behaviour` is given at every start; stderr (the peer's log lines) goes to
    `workdir/peer.stderr`, the FIX logs to `workdir/log`, the store to `workdir/store`.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        sender: str = "ROUTER",
        target: str = "RUSHTRADE",
        behaviour: dict[str, Any] | None = None,
        start_timeout: float = 20,
    ):
        self.workdir = Path(workdir)
        self.port_given = port is not None
        self._reservation: socket.socket | None = None
        self._reserve(port or 0)
        self.sender = sender
        self.target = target
        self.behaviour = dict(behaviour or {})
        self.start_timeout = start_timeout
        self.store = self.workdir / "store"
        self.log = self.workdir / "log"
        self.process: subprocess.Popen | None = None
        self.control: PeerControl | None = None
        self.ready: dict[str, Any] = {}

    def command_line(self) -> list[str]:
        line = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--port",
            str(self.port),
            "--store",
            str(self.store),
            "--log",
            str(self.log),
            "--sender",
            self.sender,
            "--target",
            self.target,
            "--control-port",
            "0",
            "--lifeline",
        ]
        for key, value in self.behaviour.items():
            if isinstance(value, list | tuple):
                value = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif value is None:
                value = "none"
            line += ["--behaviour", f"{key}={value}"]
        return line

    def _reserve(self, port: int) -> None:
        # QuickFIX 1.16 cannot listen on port 0 and tell which port it got: the port is
        # picked (and held) here. A port given by the caller is held if it can be.
        self._release()
        try:
            self._reservation = reserve_port(port)
        except OSError:
            if not port:
                raise
            self.port = port
        else:
            self.port = self._reservation.getsockname()[1]

    def _release(self) -> None:
        if self._reservation is not None:
            self._reservation.close()
            self._reservation = None

    def start(self) -> PeerProcess:
        """Starts it and returns when it listens. The first time, on another free port if
        the one picked here could not be had after all; later (after `kill()` or `stop()`)
        on the same port, where the gateway reconnects."""
        for attempt in range(5):
            try:
                return self._start()
            except PortInUse:
                if self.port_given or self.ready or attempt == 4:
                    raise
                self._reserve(0)
        raise AssertionError("unreachable")

    def _start(self) -> PeerProcess:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.workdir / "peer.stderr", "ab") as stderr:
            # stdin is the lifeline: if this process dies, the peer sees EOF and stops.
            self.process = subprocess.Popen(
                self.command_line(), stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.PIPE
            )
        deadline = time.monotonic() + self.start_timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                self._fail_start("did not become ready" if remaining <= 0 else "exited")
            readable, _, _ = select.select([self.process.stdout], [], [], remaining)
            if readable:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    self.process.wait(timeout=5)
                    self._fail_start("exited")
                line += chunk
        text = line.decode().strip()
        if not text.startswith("PEER READY "):
            self._fail_start(f"printed {text!r}")
        self.ready = json.loads(text.removeprefix("PEER READY "))
        self.control = PeerControl(self.ready["control_port"])
        return self

    def _fail_start(self, what: str) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        stderr = (self.workdir / "peer.stderr").read_text(errors="replace")[-3000:]
        error = PortInUse if self.process.returncode == EXIT_PORT_IN_USE else RuntimeError
        raise error(f"peer engine {what}; its stderr ends:\n{stderr}")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self, timeout: float = 15, *, release_port: bool = True) -> int | None:
        """SIGTERM (it logs out first), SIGKILL if it is not gone after `timeout`."""
        if release_port:
            self._release()
        if self.control:
            self.control.close()
            self.control = None
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_pipes()
        return self.process.returncode

    def kill(self) -> None:
        """A crash: SIGKILL, no logout."""
        if self.control:
            self.control.close()
            self.control = None
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout) if self.process else ():
            if pipe:
                with contextlib.suppress(OSError):
                    pipe.close()

    def restart(self, behaviour: dict[str, Any] | None = None) -> PeerProcess:
        """Stop and start again on the same port and store (the gateway reconnects there;
        PortInUse if something took the port meanwhile)."""
        self.stop(release_port=False)
        if behaviour is not None:
            self.behaviour = dict(behaviour)
        return self.start()


if __name__ == "__main__":
    main()
