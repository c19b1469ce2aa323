"""Alpaca's documented entities, field by field with their JSON types, for checking what
/v2 answers. Transcribed from alpacahq/alpaca-docs, data/webapi/entities/*.yaml
(commit 2080c5e0efbbd812c48eef9209a7a9962de67d2a), where each entity lists its fields as
`name` and `type` (`string<number>`, `string<timestamp>`, `string<uuid>`, `boolean`,
`int`, `number`, `... (Nullable)`). Alpaca answers with more fields than it documents
(so do we): a body may carry extra fields, but every documented one must be there with
its documented type.

`problems(entity, body)` lists what is wrong, empty when the body is Alpaca's shape."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Kind:
    """A documented type: `name` as the docs spell it, `test` whether a JSON value is one."""

    name: str
    nullable: bool = False

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        return _TESTS[self.name](value)

    @property
    def null(self) -> "Kind":
        return Kind(self.name, nullable=True)


def _is_number_string(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or not _TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


_TESTS = {
    "string": lambda v: isinstance(v, str),
    "string<uuid>": lambda v: isinstance(v, str) and bool(_UUID.match(v)),
    "string<number>": _is_number_string,
    "string<int>": lambda v: _is_number_string(v) and Decimal(v) == Decimal(v).to_integral(),
    "string<timestamp>": _is_timestamp,
    "string<date>": _is_date,
    "string<date or timestamp>": lambda v: _is_date(v) or _is_timestamp(v),
    "string<HH:MM>": lambda v: isinstance(v, str) and bool(re.fullmatch(r"\d{2}:\d{2}", v)),
    "boolean": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array<string>": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "array<int>": lambda v: (
        isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in v)
    ),
    # Portfolio history: a day without a value is null in Alpaca's answers too.
    "array<number or null>": lambda v: (
        isinstance(v, list)
        and all(i is None or (isinstance(i, int | float) and not isinstance(i, bool)) for i in v)
    ),
    "array": lambda v: isinstance(v, list),
}

STR = Kind("string")
UUID = Kind("string<uuid>")
NUM = Kind("string<number>")
INT_STR = Kind("string<int>")
TIME = Kind("string<timestamp>")
DATE = Kind("string<date>")
BOOL = Kind("boolean")
INT = Kind("int")
NUMBER = Kind("number")
OBJECT = Kind("object")
STRINGS = Kind("array<string>")

# account-v2.yaml
ACCOUNT = {
    "id": UUID,
    "account_number": STR,
    "status": STR,
    "crypto_status": STR,
    "currency": STR,
    "cash": NUM,
    "portfolio_value": NUM,
    "non_marginable_buying_power": NUM,
    "accrued_fees": NUM,
    "pending_transfer_in": NUM,
    "pending_transfer_out": NUM,
    "pattern_day_trader": BOOL,
    "trade_suspended_by_user": BOOL,
    "trading_blocked": BOOL,
    "transfers_blocked": BOOL,
    "account_blocked": BOOL,
    "created_at": TIME,
    "shorting_enabled": BOOL,
    "long_market_value": NUM,
    "short_market_value": NUM,
    "equity": NUM,
    "last_equity": NUM,
    "multiplier": NUM,
    "buying_power": NUM,
    "initial_margin": NUM,
    "maintenance_margin": NUM,
    "sma": NUM,
    "daytrade_count": INT,
    "last_maintenance_margin": NUM,
    "daytrading_buying_power": NUM,
    "regt_buying_power": NUM,
}

# order-v2.yaml (qty and notional: one of them is null; legs, trail_* and hwm are null
# for a simple order, as its example shows).
ORDER = {
    "id": UUID,
    "client_order_id": STR,
    "created_at": TIME,
    "updated_at": TIME.null,
    "submitted_at": TIME.null,
    "filled_at": TIME.null,
    "expired_at": TIME.null,
    "canceled_at": TIME.null,
    "failed_at": TIME.null,
    "replaced_at": TIME.null,
    "replaced_by": UUID.null,
    "replaces": UUID.null,
    "asset_id": UUID,
    "symbol": STR,
    "asset_class": STR,
    "notional": NUM.null,
    "qty": NUM.null,
    "filled_qty": NUM,
    "filled_avg_price": NUM.null,
    "order_class": STR,
    "order_type": STR,
    "type": STR,
    "side": STR,
    "time_in_force": STR,
    "limit_price": NUM.null,
    "stop_price": NUM.null,
    "status": STR,
    "extended_hours": BOOL,
    "legs": Kind("array", nullable=True),
    "trail_percent": NUM.null,
    "trail_price": NUM.null,
    "hwm": NUM.null,
}
ORDER_TYPES = {"market", "limit", "stop", "stop_limit", "trailing_stop"}
ORDER_SIDES = {"buy", "sell"}
TIME_IN_FORCE = {"day", "gtc", "opg", "cls", "ioc", "fok"}
# Alpaca's order statuses (docs: trading/orders, "Order Lifecycle").
ORDER_STATUSES = {
    "new",
    "partially_filled",
    "filled",
    "done_for_day",
    "canceled",
    "expired",
    "replaced",
    "pending_cancel",
    "pending_replace",
    "accepted",
    "pending_new",
    "accepted_for_bidding",
    "stopped",
    "rejected",
    "suspended",
    "calculated",
}

# position.yaml
POSITION = {
    "asset_id": UUID,
    "symbol": STR,
    "exchange": STR,
    "asset_class": STR,
    "avg_entry_price": NUM,
    "qty": INT_STR,
    "qty_available": INT_STR,
    "side": STR,
    "market_value": NUM,
    "cost_basis": NUM,
    "unrealized_pl": NUM,
    "unrealized_plpc": NUM,
    "unrealized_intraday_pl": NUM,
    "unrealized_intraday_plpc": NUM,
    "current_price": NUM,
    "lastday_price": NUM,
    "change_today": NUM,
}

# asset-v2.yaml
ASSET = {
    "id": UUID,
    "class": STR,
    "exchange": STR,
    "symbol": STR,
    "status": STR,
    "tradable": BOOL,
    "marginable": BOOL,
    "shortable": BOOL,
    "easy_to_borrow": BOOL,
    "fractionable": BOOL,
}
ASSET_EXCHANGES = {"AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC"}

# clock.yaml
CLOCK = {"timestamp": TIME, "is_open": BOOL, "next_open": TIME, "next_close": TIME}

# calendar.yaml ("%Y-%m-%d", "%H:%M")
CALENDAR_DAY = {"date": DATE, "open": Kind("string<HH:MM>"), "close": Kind("string<HH:MM>")}

# account-trade-activity-v2.yaml
TRADE_ACTIVITY = {
    "activity_type": STR,
    "id": STR,
    "cum_qty": NUM,
    "leaves_qty": NUM,
    "price": NUM,
    "qty": NUM,
    "side": STR,
    "symbol": STR,
    "transaction_time": TIME,
    "order_id": UUID,
    "type": STR,
}
# account-nontrade-activity-v2.yaml: `date` is documented as a timestamp and shown as a
# date; symbol, qty and per_share_amount belong to the activities about a security
# (dividends, splits), not to cash movements.
NONTRADE_ACTIVITY = {
    "activity_type": STR,
    "id": STR,
    "date": Kind("string<date or timestamp>"),
    "net_amount": NUM,
}
NONTRADE_SECURITY_ACTIVITY = {**NONTRADE_ACTIVITY, "symbol": STR, "qty": NUM}
SECURITY_ACTIVITY_TYPES = {"DIV", "DIVCGL", "DIVCGS", "DIVNRA", "DIVROC", "SPLIT"}

# portfolio-history-v2.yaml
PORTFOLIO_HISTORY = {
    "timestamp": Kind("array<int>"),
    "equity": Kind("array<number or null>"),
    "profit_loss": Kind("array<number or null>"),
    "profit_loss_pct": Kind("array<number or null>"),
    "base_value": NUMBER,
    "timeframe": STR,
}

# watchlist.yaml (the list of all watchlists leaves `assets` out, as Alpaca's does)
WATCHLIST = {
    "id": UUID,
    "created_at": TIME,
    "updated_at": TIME,
    "name": STR,
    "account_id": UUID,
    "assets": Kind("array"),
}
WATCHLIST_IN_LIST = {k: v for k, v in WATCHLIST.items() if k != "assets"}

# account-configurations-v2.yaml
ACCOUNT_CONFIGURATIONS = {
    "dtbp_check": STR,
    "trade_confirm_email": STR,
    "suspend_trade": BOOL,
    "no_shorting": BOOL,
    "fractional_trading": BOOL,
    "max_margin_multiplier": NUM,
    "pdt_check": STR,
}

# Market data v2: bars-v2-item.yaml (+ n and vw, which the data API sends), quotes-v2-item
# (+ z, the tape), trades-v2-item.yaml, snapshot-ticker-v2.yaml.
BAR = {
    "t": TIME,
    "o": NUMBER,
    "h": NUMBER,
    "l": NUMBER,
    "c": NUMBER,
    "v": INT,
    "n": INT,
    "vw": NUMBER,
}
QUOTE = {
    "t": TIME,
    "ax": STR,
    "ap": NUMBER,
    "as": INT,
    "bx": STR,
    "bp": NUMBER,
    "bs": INT,
    "c": STRINGS,
    "z": STR,
}
TRADE = {"t": TIME, "x": STR, "p": NUMBER, "s": INT, "c": STRINGS, "i": INT, "z": STR}
SNAPSHOT = {
    "latestTrade": OBJECT.null,
    "latestQuote": OBJECT.null,
    "minuteBar": OBJECT.null,
    "dailyBar": OBJECT.null,
    "prevDailyBar": OBJECT.null,
}

# Every error: {"code": 40010001, "message": "..."}
ERROR = {"code": INT, "message": STR}


def problems(entity: dict[str, Kind], body: Any, where: str = "") -> list[str]:
    """What in `body` is not `entity`'s shape: missing fields and fields of the wrong type."""
    if not isinstance(body, dict):
        return [f"{where or 'body'}: an object was expected, got {type(body).__name__}"]
    found = []
    for name, kind in entity.items():
        at = f"{where}.{name}" if where else name
        if name not in body:
            found.append(f"{at}: missing")
        elif not kind.accepts(body[name]):
            found.append(
                f"{at}: {body[name]!r} is not {kind.name}{' or null' if kind.nullable else ''}"
            )
    return found


def order_problems(body: Any, where: str = "") -> list[str]:
    found = problems(ORDER, body, where)
    if not found:
        for name, allowed in (
            ("type", ORDER_TYPES),
            ("side", ORDER_SIDES),
            ("time_in_force", TIME_IN_FORCE),
            ("status", ORDER_STATUSES),
        ):
            if body[name] not in allowed:
                found.append(f"{where}.{name}: {body[name]!r} is not one of Alpaca's")
        if (body["qty"] is None) == (body["notional"] is None):
            found.append(f"{where}: exactly one of qty and notional is set")
    return found


def asset_problems(body: Any, where: str = "") -> list[str]:
    found = problems(ASSET, body, where)
    if not found:
        if body["class"] != "us_equity":
            found.append(f"{where}.class: {body['class']!r}")
        if body["status"] not in {"active", "inactive"}:
            found.append(f"{where}.status: {body['status']!r}")
        if body["exchange"] not in ASSET_EXCHANGES:
            found.append(f"{where}.exchange: {body['exchange']!r}")
    return found


def activity_problems(body: Any, where: str = "") -> list[str]:
    if not isinstance(body, dict):
        return [f"{where}: an object was expected"]
    if body.get("activity_type") == "FILL":
        found = problems(TRADE_ACTIVITY, body, where)
        if not found and body["type"] not in {"fill", "partial_fill"}:
            found.append(f"{where}.type: {body['type']!r}")
        return found
    if body.get("activity_type") in SECURITY_ACTIVITY_TYPES:
        return problems(NONTRADE_SECURITY_ACTIVITY, body, where)
    return problems(NONTRADE_ACTIVITY, body, where)


def watchlist_problems(body: Any, where: str = "", with_assets: bool = True) -> list[str]:
    found = problems(WATCHLIST if with_assets else WATCHLIST_IN_LIST, body, where)
    if not found and with_assets:
        for index, asset in enumerate(body["assets"]):
            found += asset_problems(asset, f"{where}.assets[{index}]")
    return found


def each(check, items: Any, where: str = "") -> list[str]:
    """`check` over every item of a JSON array."""
    if not isinstance(items, list):
        return [f"{where or 'body'}: an array was expected, got {type(items).__name__}"]
    found = []
    for index, item in enumerate(items):
        found += check(item, f"{where}[{index}]")
    return found


def error_problems(body: Any, status: int) -> list[str]:
    """Alpaca's error body: {"code": int, "message": str}, the code starting with the
    status (or 40010001, "invalid parameter", which Alpaca sends with 422 as well)."""
    found = problems(ERROR, body)
    if not found and body["code"] // 100000 != status and body["code"] != 40010001:
        found.append(f"code {body['code']} does not go with status {status}")
    return found
