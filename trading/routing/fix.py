"""FIX 4.2 plumbing over QuickFIX (the `quickfix` package): session settings, the engine
around an application, and the order messages the gateway and the simulator exchange.

No Django here: the routing gateway (initiator) and the routing engine simulator
(acceptor) build on it. See docs/fix.md for how to use it and what to watch for.

Prices and quantities go on the wire as decimal strings and come back as `Decimal`;
a float is refused. Callbacks of an `Application` run on QuickFIX's own thread.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib.metadata
import logging
import os
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

import quickfix as qf

logger = logging.getLogger(__name__)

BEGIN_STRING = "FIX.4.2"

# Portal values (trading.models choices) <-> FIX 4.2 codes.
SIDES = {"buy": "1", "sell": "2"}
ORDER_TYPES = {"market": "1", "limit": "2", "stop": "3", "stop_limit": "4"}
TIME_IN_FORCE = {"day": "0", "gtc": "1", "ioc": "3", "fok": "4"}
HANDL_INST_AUTOMATED = "1"  # 21=1: automated execution, no broker intervention


class ExecType(enum.StrEnum):
    """ExecType (150) in FIX 4.2."""

    NEW = "0"
    PARTIAL_FILL = "1"
    FILL = "2"
    DONE_FOR_DAY = "3"
    CANCELED = "4"
    REPLACED = "5"
    PENDING_CANCEL = "6"
    STOPPED = "7"
    REJECTED = "8"
    SUSPENDED = "9"
    PENDING_NEW = "A"
    CALCULATED = "B"
    EXPIRED = "C"
    RESTATED = "D"
    PENDING_REPLACE = "E"


class OrdStatus(enum.StrEnum):
    """OrdStatus (39) in FIX 4.2."""

    NEW = "0"
    PARTIALLY_FILLED = "1"
    FILLED = "2"
    DONE_FOR_DAY = "3"
    CANCELED = "4"
    REPLACED = "5"
    PENDING_CANCEL = "6"
    STOPPED = "7"
    REJECTED = "8"
    SUSPENDED = "9"
    PENDING_NEW = "A"
    CALCULATED = "B"
    EXPIRED = "C"
    ACCEPTED_FOR_BIDDING = "D"
    PENDING_REPLACE = "E"


class Tag(enum.IntEnum):
    """The tags this module reads and writes."""

    ACCOUNT = 1
    AVG_PX = 6
    BEGIN_STRING = 8
    CL_ORD_ID = 11
    CUM_QTY = 14
    EXEC_ID = 17
    EXEC_REF_ID = 19
    EXEC_TRANS_TYPE = 20
    HANDL_INST = 21
    LAST_PX = 31
    LAST_SHARES = 32
    MSG_SEQ_NUM = 34
    MSG_TYPE = 35
    SENDING_TIME = 52
    ORDER_ID = 37
    ORDER_QTY = 38
    ORD_STATUS = 39
    ORD_TYPE = 40
    ORIG_CL_ORD_ID = 41
    POSS_DUP_FLAG = 43
    REF_SEQ_NUM = 45
    SENDER_COMP_ID = 49
    TARGET_COMP_ID = 56
    POSS_RESEND = 97
    ORIG_SENDING_TIME = 122
    CXL_REJ_REASON = 102
    CXL_REJ_RESPONSE_TO = 434
    REF_TAG_ID = 371
    REF_MSG_TYPE = 372
    SESSION_REJECT_REASON = 373
    BUSINESS_REJECT_REF_ID = 379
    BUSINESS_REJECT_REASON = 380
    PRICE = 44
    SIDE = 54
    SYMBOL = 55
    TEXT = 58
    TIME_IN_FORCE = 59
    TRANSACT_TIME = 60
    STOP_PX = 99
    EXEC_TYPE = 150
    LEAVES_QTY = 151


class MsgType(enum.StrEnum):
    REJECT = "3"
    EXECUTION_REPORT = "8"
    ORDER_CANCEL_REJECT = "9"
    BUSINESS_MESSAGE_REJECT = "j"
    ORDER_STATUS_REQUEST = "H"
    NEW_ORDER_SINGLE = "D"
    ORDER_CANCEL_REQUEST = "F"
    ORDER_CANCEL_REPLACE_REQUEST = "G"


# --- settings ---------------------------------------------------------------------------


def data_dictionary_path(version: str = "FIX42") -> Path:
    """The FIX data dictionary shipped with the installed `quickfix` package.

    The wheel installs it as data files: `<venv>/share/quickfix/FIX42.xml`.
    """
    for file in importlib.metadata.files("quickfix") or ():
        if file.name == f"{version}.xml" and file.parent.name == "quickfix":
            path = Path(file.locate()).resolve()
            if path.is_file():
                return path
    path = Path(sys.prefix) / "share" / "quickfix" / f"{version}.xml"
    if path.is_file():
        return path
    raise FileNotFoundError(f"{version}.xml is not installed with the quickfix package")


def session_config(
    role: Literal["initiator", "acceptor"],
    *,
    sender_comp_id: str,
    target_comp_id: str,
    port: int,
    store_path: str | Path,
    log_path: str | Path,
    host: str | None = None,
    heartbeat_interval: int = 30,
    reconnect_interval: int = 5,
    data_dictionary: str | Path | None = None,
    validate_incoming: bool = True,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    allowed_remote_addresses: Iterable[str] = (),
) -> dict[str, str]:
    """The QuickFIX settings of one FIX 4.2 session, as a plain dict (what a .cfg holds).

    `role` "initiator" connects to `host`:`port` (the gateway); "acceptor" listens on
    `port` on every interface (QuickFIX 1.16 has no bind address: restrict who may log on
    with `allowed_remote_addresses`). Sequence numbers and sent messages persist in
    `store_path` (FileStore) and survive restarts: ResetOnLogon/Logout/Disconnect=N,
    PersistMessages=Y. `validate_incoming=False` delivers every message to the application
    as it came (no data dictionary check, no latency check): a receiver that stores what
    it gets and judges it itself loses nothing to a field QuickFIX dislikes.
    With `start_time`/`end_time` (UTC) the session has a daily window
    and QuickFIX resets the sequence numbers when a new window begins; without them it is
    a non-stop session whose numbers only ever go up.
    """
    if role not in ("initiator", "acceptor"):
        raise ValueError(f"role must be 'initiator' or 'acceptor', not {role!r}")
    if (start_time is None) != (end_time is None):
        raise ValueError("give both start_time and end_time, or neither")
    config = {
        "ConnectionType": role,
        "BeginString": BEGIN_STRING,
        "SenderCompID": sender_comp_id,
        "TargetCompID": target_comp_id,
        "HeartBtInt": str(int(heartbeat_interval)),
        "FileStorePath": str(store_path),
        "FileLogPath": str(log_path),
        "UseDataDictionary": "Y" if validate_incoming else "N",
        "DataDictionary": str(data_dictionary or data_dictionary_path()),
        "ResetOnLogon": "N",
        "ResetOnLogout": "N",
        "ResetOnDisconnect": "N",
        "PersistMessages": "Y",
        "SocketNodelay": "Y",
    }
    if not validate_incoming:
        config |= {"CheckLatency": "N", "ValidateUserDefinedFields": "N"}
    if start_time is None:
        config["NonStopSession"] = "Y"
    else:
        config["StartTime"] = start_time.strftime("%H:%M:%S")
        config["EndTime"] = end_time.strftime("%H:%M:%S")
    if role == "initiator":
        if not host:
            raise ValueError("an initiator needs the host to connect to")
        config |= {
            "SocketConnectHost": host,
            "SocketConnectPort": str(int(port)),
            "ReconnectInterval": str(int(reconnect_interval)),
        }
    else:
        config["SocketAcceptPort"] = str(int(port))
        addresses = ",".join(allowed_remote_addresses)
        if addresses:
            config["AllowedRemoteAddresses"] = addresses
    return config


def build_session_settings(config: Mapping[str, str]) -> qf.SessionSettings:
    """A `quickfix.SessionSettings` holding one session, from `session_config()`'s dict.

    Built in memory (no .cfg file). The store and log directories are created.
    """
    for key in ("FileStorePath", "FileLogPath"):
        Path(config[key]).mkdir(parents=True, exist_ok=True)
    # Like a .cfg file: the session's identity in its [SESSION], the rest in [DEFAULT],
    # where the connector-wide log (FileLogFactory) looks for FileLogPath.
    identity = ("BeginString", "SenderCompID", "TargetCompID")
    defaults, session = qf.Dictionary(), qf.Dictionary()
    for key, value in config.items():
        (session if key in identity else defaults).setString(key, str(value))
    settings = qf.SessionSettings()
    settings.set(defaults)
    settings.set(session_id_of(config), session)
    return settings


def session_settings(role: Literal["initiator", "acceptor"], **params) -> qf.SessionSettings:
    """`build_session_settings(session_config(role, **params))`."""
    return build_session_settings(session_config(role, **params))


def session_id_of(config: Mapping[str, str]) -> qf.SessionID:
    return qf.SessionID(config["BeginString"], config["SenderCompID"], config["TargetCompID"])


# --- the engine -------------------------------------------------------------------------


# The QuickFIX exceptions each callback may raise on purpose (the binding turns them into
# the C++ ones: reject the message, refuse the logon, do not send). Anything else that
# leaves a callback makes the binding call Py_Exit(1) on QuickFIX's thread, which
# deadlocks (finalization waits for the main thread, which waits for QuickFIX's).
_CALLBACK_EXCEPTIONS = {
    "toApp": (qf.DoNotSend,),
    "fromAdmin": (qf.FieldNotFound, qf.IncorrectDataFormat, qf.IncorrectTagValue, qf.RejectLogon),
    "fromApp": (
        qf.FieldNotFound,
        qf.IncorrectDataFormat,
        qf.IncorrectTagValue,
        qf.UnsupportedMessageType,
    ),
}


class Application(qf.Application):
    """A QuickFIX application: override the snake_case hooks (all no-ops here).

    QuickFIX calls the camelCase callbacks on its own thread; each calls its hook and lets
    through only the QuickFIX exceptions that callback may raise (see _CALLBACK_EXCEPTIONS).
    Any other exception goes to on_callback_error, which by default logs it and ends the
    process at once (os._exit), never letting it reach the binding (where it deadlocks).

    Ending the process is safe for incoming messages: a message counts as received (its
    MsgSeqNum is stored) only after fromApp returns, so after a restart and logon the
    other side resends it, with PossDupFlag=Y. Apply incoming messages idempotently.

    `message` is QuickFIX's object, valid only during the call: read what you need (or
    copy it with quickfix.Message(message)) before returning. Each call gets a fresh
    Python thread state, so thread-locals (Django's database connection among them) do
    not carry over from one call to the next: close what a hook opens (docs/fix.md).
    """

    def __init__(self) -> None:
        super().__init__()  # the SWIG director needs it, or every callback fails

    # hooks
    def on_create(self, session_id: qf.SessionID) -> None:
        pass

    def on_logon(self, session_id: qf.SessionID) -> None:
        pass

    def on_logout(self, session_id: qf.SessionID) -> None:
        pass

    def to_admin(self, message: qf.Message, session_id: qf.SessionID) -> None:
        pass

    def from_admin(self, message: qf.Message, session_id: qf.SessionID) -> None:
        pass

    def to_app(self, message: qf.Message, session_id: qf.SessionID) -> None:
        pass

    def from_app(self, message: qf.Message, session_id: qf.SessionID) -> None:
        pass

    def on_callback_error(self, callback: str, exc: BaseException) -> None:
        logger.critical(
            "FIX callback %s failed: ending the process (FIX recovery resends what was "
            "not acknowledged)",
            callback,
            exc_info=exc,
        )
        os._exit(1)

    # QuickFIX's callbacks
    def _guard(self, callback: str, hook, *args) -> None:
        try:
            hook(*args)
        except _CALLBACK_EXCEPTIONS.get(callback, ()):
            raise
        except BaseException as exc:
            self.on_callback_error(callback, exc)

    def onCreate(self, sessionID):
        self._guard("onCreate", self.on_create, sessionID)

    def onLogon(self, sessionID):
        self._guard("onLogon", self.on_logon, sessionID)

    def onLogout(self, sessionID):
        self._guard("onLogout", self.on_logout, sessionID)

    def toAdmin(self, message, sessionID):
        self._guard("toAdmin", self.to_admin, message, sessionID)

    def fromAdmin(self, message, sessionID):
        self._guard("fromAdmin", self.from_admin, message, sessionID)

    def toApp(self, message, sessionID):
        self._guard("toApp", self.to_app, message, sessionID)

    def fromApp(self, message, sessionID):
        self._guard("fromApp", self.from_app, message, sessionID)


# Starting, stopping or destroying two connectors of one process at the same time crashes
# QuickFIX (a segmentation fault in stop(), seen with a gateway and a simulator in one
# test process): their life cycles take turns.
_LIFECYCLE = threading.RLock()


class Engine:
    """A SocketInitiator or SocketAcceptor (from the session's ConnectionType) with a
    FileStore and a FileLog (or ScreenLog), keeping every object QuickFIX points to alive.

    QuickFIX keeps C++ references to the application, settings and factories: if Python
    collected one while the engine runs, the process would crash. Hold the Engine.
    """

    def __init__(
        self, application: qf.Application, settings: qf.SessionSettings, *, screen_log=False
    ):
        self.application = application
        self.settings = settings
        self.session_ids = list(settings.getSessions())
        roles = {settings.get(sid).getString("ConnectionType") for sid in self.session_ids}
        if len(roles) != 1:
            raise ValueError(f"one role per engine, not {sorted(roles)}")
        self.role = roles.pop()
        self.store_factory = qf.FileStoreFactory(settings)
        self.log_factory = (
            qf.ScreenLogFactory(settings) if screen_log else qf.FileLogFactory(settings)
        )
        connector = qf.SocketInitiator if self.role == "initiator" else qf.SocketAcceptor
        self.connector = connector(application, self.store_factory, settings, self.log_factory)

    def start(self) -> None:
        """Start QuickFIX's thread: an initiator connects (and reconnects), an acceptor
        listens. Returns at once; onLogon says when the session is up."""
        with _LIFECYCLE:
            self.connector.start()

    def stop(self, force: bool = False) -> None:
        """Log out (waits up to 10 s for the logout unless `force`) and join the thread."""
        with _LIFECYCLE:
            if self.connector is not None and not self.connector.isStopped():
                self.connector.stop(force)

    def is_logged_on(self) -> bool:
        return self.connector is not None and self.connector.isLoggedOn()

    def close(self) -> None:
        """Stop, then destroy the connector (its sessions and their open store files).

        A session ID is registered process-wide while its connector exists: an engine for
        the same session made before the old one is destroyed is not registered (the old,
        stopped session answers sendToTarget), and destroying the old one later unregisters
        the new one. So close() one engine before making its successor.
        """
        if self.connector is None:
            return
        self.stop()
        with _LIFECYCLE:
            self.connector = None  # the C++ destructor deletes the sessions...
            self.log_factory = None  # ...which use the factories: drop those after
            self.store_factory = None

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def send(message: qf.Message, session_id: qf.SessionID) -> bool:
    """Send on a session (thread-safe; may be called from a callback).

    When the session is not logged on QuickFIX 1.16 still returns True: the message is
    stored with its sequence number and reaches the other side only through its resend
    request after the next logon (as PossDup), so a sender that can retry later should
    check is_logged_on first.
    """
    return qf.Session.sendToTarget(message, session_id)


def next_sender_seq_num(session_id: qf.SessionID) -> int:
    """The MsgSeqNum the next outgoing message will carry (the session must exist)."""
    return qf.Session.lookupSession(session_id).getExpectedSenderNum()


def next_target_seq_num(session_id: qf.SessionID) -> int:
    """The MsgSeqNum expected on the next incoming message."""
    return qf.Session.lookupSession(session_id).getExpectedTargetNum()


# --- building messages ------------------------------------------------------------------


def _wire(value: Decimal | int | str) -> str:
    """A price or quantity as FIX text: plain decimal notation, never from a float."""
    if isinstance(value, float):
        raise TypeError("prices and quantities are Decimal (or int or str), never float")
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return format(number, "f")


def _code(table: Mapping[str, str], value: str, what: str) -> str:
    try:
        return table[value]
    except KeyError:
        raise ValueError(f"unknown {what}: {value!r}") from None


def _utc_timestamp(when: dt.datetime | None) -> str:
    when = when or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        raise ValueError("TransactTime needs an aware datetime")
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y%m%d-%H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def _message(msg_type: MsgType) -> qf.Message:
    message = qf.Message()
    header = message.getHeader()
    header.setField(int(Tag.BEGIN_STRING), BEGIN_STRING)
    header.setField(int(Tag.MSG_TYPE), str(msg_type))
    return message


def _set(message: qf.Message, tag: Tag, value: str | None) -> None:
    if value is not None and value != "":
        message.setField(int(tag), value)


def _set_order_terms(message, *, order_type, limit_price, stop_price, time_in_force) -> None:
    _set(message, Tag.ORD_TYPE, _code(ORDER_TYPES, order_type, "order type"))
    if order_type in ("limit", "stop_limit"):
        if limit_price is None:
            raise ValueError(f"a {order_type} order needs a limit price")
        _set(message, Tag.PRICE, _wire(limit_price))
    if order_type in ("stop", "stop_limit"):
        if stop_price is None:
            raise ValueError(f"a {order_type} order needs a stop price")
        _set(message, Tag.STOP_PX, _wire(stop_price))
    _set(message, Tag.TIME_IN_FORCE, _code(TIME_IN_FORCE, time_in_force, "time in force"))


def new_order_single(
    *,
    cl_ord_id: str,
    symbol: str,
    side: str,
    quantity: Decimal | int,
    order_type: str,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
    time_in_force: str = "day",
    account: str | None = None,
    transact_time: dt.datetime | None = None,
) -> qf.Message:
    """NewOrderSingle (35=D). `side`, `order_type`, `time_in_force` take the portal's
    values ("buy", "limit", "day", ...)."""
    message = _message(MsgType.NEW_ORDER_SINGLE)
    _set(message, Tag.CL_ORD_ID, cl_ord_id)
    _set(message, Tag.ACCOUNT, account)
    _set(message, Tag.HANDL_INST, HANDL_INST_AUTOMATED)
    _set(message, Tag.SYMBOL, symbol)
    _set(message, Tag.SIDE, _code(SIDES, side, "side"))
    _set(message, Tag.TRANSACT_TIME, _utc_timestamp(transact_time))
    _set(message, Tag.ORDER_QTY, _wire(quantity))
    _set_order_terms(
        message,
        order_type=order_type,
        limit_price=limit_price,
        stop_price=stop_price,
        time_in_force=time_in_force,
    )
    return message


def order_cancel_request(
    *,
    cl_ord_id: str,
    orig_cl_ord_id: str,
    symbol: str,
    side: str,
    quantity: Decimal | int,
    order_id: str | None = None,
    account: str | None = None,
    transact_time: dt.datetime | None = None,
) -> qf.Message:
    """OrderCancelRequest (35=F) for the order first sent as `orig_cl_ord_id`."""
    message = _message(MsgType.ORDER_CANCEL_REQUEST)
    _set(message, Tag.ORIG_CL_ORD_ID, orig_cl_ord_id)
    _set(message, Tag.ORDER_ID, order_id)
    _set(message, Tag.CL_ORD_ID, cl_ord_id)
    _set(message, Tag.ACCOUNT, account)
    _set(message, Tag.SYMBOL, symbol)
    _set(message, Tag.SIDE, _code(SIDES, side, "side"))
    _set(message, Tag.TRANSACT_TIME, _utc_timestamp(transact_time))
    _set(message, Tag.ORDER_QTY, _wire(quantity))
    return message


def order_cancel_replace_request(
    *,
    cl_ord_id: str,
    orig_cl_ord_id: str,
    symbol: str,
    side: str,
    quantity: Decimal | int,
    order_type: str,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
    time_in_force: str = "day",
    order_id: str | None = None,
    account: str | None = None,
    transact_time: dt.datetime | None = None,
) -> qf.Message:
    """OrderCancelReplaceRequest (35=G): the order's new terms, whole."""
    message = _message(MsgType.ORDER_CANCEL_REPLACE_REQUEST)
    _set(message, Tag.ORDER_ID, order_id)
    _set(message, Tag.ORIG_CL_ORD_ID, orig_cl_ord_id)
    _set(message, Tag.CL_ORD_ID, cl_ord_id)
    _set(message, Tag.ACCOUNT, account)
    _set(message, Tag.HANDL_INST, HANDL_INST_AUTOMATED)
    _set(message, Tag.SYMBOL, symbol)
    _set(message, Tag.SIDE, _code(SIDES, side, "side"))
    _set(message, Tag.TRANSACT_TIME, _utc_timestamp(transact_time))
    _set(message, Tag.ORDER_QTY, _wire(quantity))
    _set_order_terms(
        message,
        order_type=order_type,
        limit_price=limit_price,
        stop_price=stop_price,
        time_in_force=time_in_force,
    )
    return message


def execution_report(
    *,
    order_id: str,
    exec_id: str,
    exec_type: ExecType | str,
    ord_status: OrdStatus | str,
    cl_ord_id: str,
    symbol: str,
    side: str,
    order_qty: Decimal | int,
    leaves_qty: Decimal | int,
    cum_qty: Decimal | int,
    avg_px: Decimal,
    last_shares: Decimal | int = 0,
    last_px: Decimal = Decimal(0),
    orig_cl_ord_id: str | None = None,
    text: str | None = None,
    exec_trans_type: str = "0",
    transact_time: dt.datetime | None = None,
) -> qf.Message:
    """ExecutionReport (35=8), FIX 4.2 (ExecTransType 20=0 "new" unless told)."""
    message = _message(MsgType.EXECUTION_REPORT)
    _set(message, Tag.ORDER_ID, order_id)
    _set(message, Tag.CL_ORD_ID, cl_ord_id)
    _set(message, Tag.ORIG_CL_ORD_ID, orig_cl_ord_id)
    _set(message, Tag.EXEC_ID, exec_id)
    _set(message, Tag.EXEC_TRANS_TYPE, exec_trans_type)
    _set(message, Tag.EXEC_TYPE, str(ExecType(exec_type)))
    _set(message, Tag.ORD_STATUS, str(OrdStatus(ord_status)))
    _set(message, Tag.SYMBOL, symbol)
    _set(message, Tag.SIDE, _code(SIDES, side, "side"))
    _set(message, Tag.ORDER_QTY, _wire(order_qty))
    _set(message, Tag.LAST_SHARES, _wire(last_shares))
    _set(message, Tag.LAST_PX, _wire(last_px))
    _set(message, Tag.LEAVES_QTY, _wire(leaves_qty))
    _set(message, Tag.CUM_QTY, _wire(cum_qty))
    _set(message, Tag.AVG_PX, _wire(avg_px))
    _set(message, Tag.TRANSACT_TIME, _utc_timestamp(transact_time))
    _set(message, Tag.TEXT, text)
    return message


def order_cancel_reject(
    *,
    order_id: str,
    cl_ord_id: str,
    orig_cl_ord_id: str,
    ord_status: OrdStatus | str,
    response_to: str,
    text: str | None = None,
) -> qf.Message:
    """OrderCancelReject (35=9): the cancel (434=1) or cancel/replace (434=2) request
    `cl_ord_id` for the order `orig_cl_ord_id` is refused; the order stays as it is."""
    message = _message(MsgType.ORDER_CANCEL_REJECT)
    _set(message, Tag.ORDER_ID, order_id)
    _set(message, Tag.CL_ORD_ID, cl_ord_id)
    _set(message, Tag.ORIG_CL_ORD_ID, orig_cl_ord_id)
    _set(message, Tag.ORD_STATUS, str(OrdStatus(ord_status)))
    _set(message, Tag.CXL_REJ_RESPONSE_TO, response_to)
    _set(message, Tag.TEXT, text)
    return message


def order_status_request(
    *, cl_ord_id: str, symbol: str, side: str, order_id: str | None = None
) -> qf.Message:
    """OrderStatusRequest (35=H): "what is the state of this order?" (the answer is an
    ExecutionReport with ExecTransType 3)."""
    message = _message(MsgType.ORDER_STATUS_REQUEST)
    _set(message, Tag.ORDER_ID, order_id or "NONE")
    _set(message, Tag.CL_ORD_ID, cl_ord_id)
    _set(message, Tag.SYMBOL, symbol)
    _set(message, Tag.SIDE, _code(SIDES, side, "side"))
    return message


def mark_poss_resend(message: qf.Message) -> None:
    """PossResend (97=Y): this application message may have been sent before (the
    gateway could not record that it was); the receiver checks its ClOrdID."""
    message.getHeader().setField(qf.StringField(int(Tag.POSS_RESEND), "Y"))


# --- reading messages -------------------------------------------------------------------

_SIDE_NAMES = {code: name for name, code in SIDES.items()}
_ORDER_TYPE_NAMES = {code: name for name, code in ORDER_TYPES.items()}
_TIME_IN_FORCE_NAMES = {code: name for name, code in TIME_IN_FORCE.items()}


def msg_type(message: qf.Message) -> str:
    return message.getHeader().getField(int(Tag.MSG_TYPE))


def _get(message: qf.Message, tag: Tag) -> str | None:
    return message.getField(int(tag)) if message.isSetField(int(tag)) else None


def _require(message: qf.Message, tag: Tag) -> str:
    return message.getField(int(tag))  # raises quickfix.FieldNotFound


def _decimal(message: qf.Message, tag: Tag) -> Decimal | None:
    value = _get(message, tag)
    return None if value is None else Decimal(value)


def _expect(message: qf.Message, *types: MsgType) -> str:
    kind = msg_type(message)
    if kind not in types:
        raise ValueError(f"expected MsgType {'/'.join(types)}, got {kind}")
    return kind


def _poss_dup(message: qf.Message) -> bool:
    header = message.getHeader()
    tag = int(Tag.POSS_DUP_FLAG)
    return header.isSetField(tag) and header.getField(tag) == "Y"


@dataclass(frozen=True)
class ExecutionReport:
    """An ExecutionReport (35=8) as plain values. Quantities and prices are Decimal; side
    is the portal's value ("buy"/"sell"); `poss_dup` is set on a resent message."""

    order_id: str
    exec_id: str
    exec_trans_type: str
    exec_type: ExecType
    ord_status: OrdStatus
    cl_ord_id: str | None
    orig_cl_ord_id: str | None
    symbol: str
    side: str
    order_qty: Decimal | None
    last_shares: Decimal | None
    last_px: Decimal | None
    leaves_qty: Decimal
    cum_qty: Decimal
    avg_px: Decimal
    text: str | None
    transact_time: str | None
    poss_dup: bool


def read_execution_report(message: qf.Message) -> ExecutionReport:
    _expect(message, MsgType.EXECUTION_REPORT)
    return ExecutionReport(
        order_id=_require(message, Tag.ORDER_ID),
        exec_id=_require(message, Tag.EXEC_ID),
        exec_trans_type=_require(message, Tag.EXEC_TRANS_TYPE),
        exec_type=ExecType(_require(message, Tag.EXEC_TYPE)),
        ord_status=OrdStatus(_require(message, Tag.ORD_STATUS)),
        cl_ord_id=_get(message, Tag.CL_ORD_ID),
        orig_cl_ord_id=_get(message, Tag.ORIG_CL_ORD_ID),
        symbol=_require(message, Tag.SYMBOL),
        side=_SIDE_NAMES.get(_require(message, Tag.SIDE), _require(message, Tag.SIDE)),
        order_qty=_decimal(message, Tag.ORDER_QTY),
        last_shares=_decimal(message, Tag.LAST_SHARES),
        last_px=_decimal(message, Tag.LAST_PX),
        leaves_qty=Decimal(_require(message, Tag.LEAVES_QTY)),
        cum_qty=Decimal(_require(message, Tag.CUM_QTY)),
        avg_px=Decimal(_require(message, Tag.AVG_PX)),
        text=_get(message, Tag.TEXT),
        transact_time=_get(message, Tag.TRANSACT_TIME),
        poss_dup=_poss_dup(message),
    )


@dataclass(frozen=True)
class CancelReject:
    """An OrderCancelReject (35=9) as plain values."""

    order_id: str | None
    cl_ord_id: str
    orig_cl_ord_id: str
    ord_status: str | None
    response_to: str
    text: str | None
    poss_dup: bool


def read_cancel_reject(message: qf.Message) -> CancelReject:
    _expect(message, MsgType.ORDER_CANCEL_REJECT)
    return CancelReject(
        order_id=_get(message, Tag.ORDER_ID),
        cl_ord_id=_require(message, Tag.CL_ORD_ID),
        orig_cl_ord_id=_require(message, Tag.ORIG_CL_ORD_ID),
        ord_status=_get(message, Tag.ORD_STATUS),
        response_to=_get(message, Tag.CXL_REJ_RESPONSE_TO) or "1",
        text=_get(message, Tag.TEXT),
        poss_dup=_poss_dup(message),
    )


# --- raw messages (the gateway's inbox) ---------------------------------------------------

SOH = "\x01"


def raw_text(message: qf.Message) -> str:
    """The message as it goes on the wire (fields separated by SOH)."""
    return message.toString()


def parse_fields(raw: str) -> dict[int, str]:
    """The fields of a flat FIX message (no repeating groups read), first occurrence of a
    tag wins. Raises ValueError on a field that is not `tag=value`."""
    fields: dict[int, str] = {}
    for part in raw.split(SOH):
        if not part:
            continue
        tag, sep, value = part.partition("=")
        if not sep or not tag.isdigit():
            raise ValueError(f"not a FIX field: {part[:40]!r}")
        fields.setdefault(int(tag), value)
    return fields


def field(fields: Mapping[int, str], tag: Tag, default: str | None = None) -> str | None:
    return fields.get(int(tag), default)


def required(fields: Mapping[int, str], tag: Tag) -> str:
    try:
        return fields[int(tag)]
    except KeyError:
        raise ValueError(f"required tag {int(tag)} ({tag.name}) is missing") from None


def utc_time(value: str | None) -> dt.datetime | None:
    """A UTCTimestamp (YYYYMMDD-HH:MM:SS[.sss]) as an aware datetime; None if absent."""
    if not value:
        return None
    for layout in ("%Y%m%d-%H:%M:%S.%f", "%Y%m%d-%H:%M:%S"):
        try:
            return dt.datetime.strptime(value, layout).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise ValueError(f"not a UTCTimestamp: {value!r}")


@dataclass(frozen=True)
class OrderRequest:
    """A NewOrderSingle (D), OrderCancelRequest (F) or OrderCancelReplaceRequest (G) as
    plain values, for the engine side. Portal values for side, order type, time in force."""

    msg_type: str
    cl_ord_id: str
    orig_cl_ord_id: str | None
    order_id: str | None
    account: str | None
    symbol: str
    side: str
    quantity: Decimal | None
    order_type: str | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    time_in_force: str | None
    poss_dup: bool


def read_order_request(message: qf.Message) -> OrderRequest:
    kind = _expect(
        message,
        MsgType.NEW_ORDER_SINGLE,
        MsgType.ORDER_CANCEL_REQUEST,
        MsgType.ORDER_CANCEL_REPLACE_REQUEST,
    )
    side = _require(message, Tag.SIDE)
    ord_type = _get(message, Tag.ORD_TYPE)
    tif = _get(message, Tag.TIME_IN_FORCE)
    if kind != MsgType.ORDER_CANCEL_REQUEST and tif is None:
        tif = TIME_IN_FORCE["day"]  # FIX 4.2: absent TimeInForce means Day
    return OrderRequest(
        msg_type=kind,
        cl_ord_id=_require(message, Tag.CL_ORD_ID),
        orig_cl_ord_id=_get(message, Tag.ORIG_CL_ORD_ID),
        order_id=_get(message, Tag.ORDER_ID),
        account=_get(message, Tag.ACCOUNT),
        symbol=_require(message, Tag.SYMBOL),
        side=_SIDE_NAMES.get(side, side),
        quantity=_decimal(message, Tag.ORDER_QTY),
        order_type=None if ord_type is None else _ORDER_TYPE_NAMES.get(ord_type, ord_type),
        limit_price=_decimal(message, Tag.PRICE),
        stop_price=_decimal(message, Tag.STOP_PX),
        time_in_force=None if tif is None else _TIME_IN_FORCE_NAMES.get(tif, tif),
        poss_dup=_poss_dup(message),
    )
