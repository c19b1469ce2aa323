"""A clearing firm, for the embedded run, demos and tests (docs/clearing.md, "The
simulator"): it keeps its own books from the files the portal sent it, and answers each
business date with the next morning's positions, settled cash, activity and corporate
actions. It can be told to disagree (injected breaks).

Its books are rebuilt on every run from every outbound file up to the date (so they are
what the files say, not what the portal's database says), plus its own state: sequence
numbers, the corporate actions it announced and the breaks injected."""

import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
from django.conf import settings

from accounts.money import withholding
from accounts.money.models import JournalEntryKind
from trading.clearing import files
from trading.market.calendar import nyse

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
INJECTIONS = ("missing_trade", "quantity_mismatch", "cash_difference", "unknown_account")
CASH_DIFFERENCE = Decimal("12.34")
OUTBOUND = ("ACCOUNTS", "TRADES", "MONEY")
NAME = re.compile(r"^(?P<sender>\w+?)_(?P<type>[A-Z]+)_(?P<day>\d{8})_(?P<seq>\d{6})\.csv$")


def previous_session(day: date) -> date:
    calendar = nyse()
    stamp = pd.Timestamp(day)
    if calendar.is_session(stamp):
        return calendar.previous_session(stamp).date()
    return calendar.date_to_session(stamp, direction="previous").date()


# --- State -----------------------------------------------------------------------------------


def _state_path() -> Path:
    return Path(settings.CLEARING_SIMULATOR_DIR) / "state.json"


def load_state() -> dict:
    path = _state_path()
    state = json.loads(path.read_text()) if path.exists() else {}
    state.setdefault("sequences", {})
    state.setdefault("actions", [])
    state.setdefault("injections", [])
    state.setdefault("answered", {})
    return state


def save_state(state: dict) -> None:
    path = _state_path()
    files.write_atomically(path.parent, path.name, json.dumps(state, indent=1).encode())


def announce_dividend(symbol: str, rate: Decimal, ex_date: date, pay_date: date) -> dict:
    state = load_state()
    action = {
        "action_id": f"DIV-{symbol}-{ex_date:%Y%m%d}",
        "type": "DIV",
        "symbol": symbol,
        "ex_date": ex_date.isoformat(),
        "record_date": ex_date.isoformat(),  # T+1: the record date is the ex-date
        "pay_date": pay_date.isoformat(),
        "rate": str(rate),
    }
    _add_action(state, action)
    return action


def announce_split(
    symbol: str, new: int, old: int, ex_date: date, cash_in_lieu_price: Decimal | None = None
) -> dict:
    """A split (new-for-old; 1-for-10 is a reverse split); a fraction of a share it
    leaves is paid in cash at `cash_in_lieu_price` (none: the fraction is dropped)."""
    state = load_state()
    action = {
        "action_id": f"SPLIT-{symbol}-{ex_date:%Y%m%d}",
        "type": "SPLIT",
        "symbol": symbol,
        "ex_date": ex_date.isoformat(),
        "record_date": ex_date.isoformat(),
        "pay_date": ex_date.isoformat(),
        "ratio_new": new,
        "ratio_old": old,
        "cash_in_lieu_price": str(cash_in_lieu_price) if cash_in_lieu_price else "",
    }
    _add_action(state, action)
    return action


def _add_action(state: dict, action: dict) -> None:
    state["actions"] = [a for a in state["actions"] if a["action_id"] != action["action_id"]]
    state["actions"].append(action)
    save_state(state)


# --- Books -----------------------------------------------------------------------------------


@dataclass
class Books:
    accounts: dict[str, dict] = field(default_factory=dict)  # number -> record
    opened: list[str] = field(default_factory=list)  # in the order they came
    trades: dict[str, dict] = field(default_factory=dict)  # reference -> trade
    cancels: dict[str, date] = field(default_factory=dict)  # reference -> file date
    money: list[dict] = field(default_factory=list)
    cusips: dict[str, str] = field(default_factory=dict)


def read_outbound(until: date) -> Books:
    """Every outbound file of the portal dated up to `until`, checked as a receiver
    checks them (a bad file or a sequence gap stops at that file, with a WARNING)."""
    books = Books()
    found = defaultdict(list)
    folder = Path(settings.CLEARING_OUTBOX_DIR)
    for path in sorted(folder.glob("*.csv")) if folder.exists() else []:
        match = NAME.match(path.name)
        if not match or match["type"] not in OUTBOUND:
            continue
        day = files._parse_date(match["day"])
        if day <= until:
            found[match["type"]].append((int(match["seq"]), day, path))
    for file_type in OUTBOUND:  # accounts first: trades of an unknown account are refused
        expected = 1
        for sequence, day, path in sorted(found[file_type]):
            if sequence != expected:
                log.warning(
                    "Clearing firm: %s is out of sequence (expected %d)", path.name, expected
                )
                break
            try:
                parsed = files.parse(
                    path.read_bytes(),
                    sender=settings.CLEARING_CORRESPONDENT_ID,
                    receiver=settings.CLEARING_FIRM_ID,
                    types=[file_type],
                )
            except files.FileRejected as error:
                log.warning("Clearing firm: rejected %s: %s", path.name, error)
                break
            expected += 1
            for record in parsed.records:
                _book(books, file_type, record, day)
    return books


def _book(books: Books, file_type: str, record: dict, day: date) -> None:
    if file_type == "ACCOUNTS":
        if record["account_number"] not in books.accounts:
            books.opened.append(record["account_number"])
        books.accounts[record["account_number"]] = record
    elif record["account_number"] not in books.accounts:
        log.warning(
            "Clearing firm: %s %s for unknown account %s refused",
            file_type,
            record.get("reference"),
            record["account_number"],
        )
    elif file_type == "TRADES":
        books.cusips[record["symbol"]] = record["cusip"]
        if record["action"] == "N":
            books.trades[record["reference"]] = record
        else:
            books.cancels[record["reference"]] = day
    else:
        books.money.append(record)


def _inject(books: Books, injections: list[dict]) -> list[dict]:
    """Apply the injected breaks to the books; cash differences are returned."""
    cash = []
    for injection in injections:
        kind = injection["kind"]
        if kind == "missing_trade":
            books.trades.pop(injection["reference"], None)
        elif kind == "quantity_mismatch" and injection["reference"] in books.trades:
            books.trades[injection["reference"]] = books.trades[injection["reference"]] | {
                "qty": books.trades[injection["reference"]]["qty"] + 1
            }
        elif kind == "unknown_account":
            number = injection["account_number"]
            books.accounts.pop(number, None)
            books.trades = {r: t for r, t in books.trades.items() if t["account_number"] != number}
            books.money = [m for m in books.money if m["account_number"] != number]
        elif kind == "cash_difference":
            cash.append(injection)
    return cash


def _choose_injection(kind: str, books: Books, day: date) -> dict:
    if kind in ("missing_trade", "quantity_mismatch"):
        todays = sorted(
            (r for r, t in books.trades.items() if t["trade_date"] == day),
            key=lambda r: int(r[1:]),
        )
        if not todays:
            raise ValueError(f"no trade on {day} to inject {kind} into")
        return {"kind": kind, "reference": todays[0], "date": day.isoformat()}
    if not books.opened:
        raise ValueError(f"no account to inject {kind} into")
    number = books.opened[0]
    if kind == "cash_difference":
        return {
            "kind": kind,
            "account_number": number,
            "amount": str(CASH_DIFFERENCE),
            "date": day.isoformat(),
        }
    return {"kind": kind, "account_number": number, "date": day.isoformat()}


# --- The morning files -----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    business_date: date
    files: list[Path]
    injected: list[dict]


def _signed(trade: dict) -> int:
    return trade["qty"] if trade["side"] == "B" else -trade["qty"]


def _positions(books: Books, actions: list[dict], day: date) -> dict[tuple[str, str], int]:
    """Quantities at the close of `day`: trades by trade date, splits on their ex-dates."""
    events = []
    for reference, trade in books.trades.items():
        cancelled = books.cancels.get(reference)
        if trade["trade_date"] <= day and not (cancelled and cancelled <= day):
            events.append((trade["trade_date"], 1, trade))
    for action in actions:
        ex = date.fromisoformat(action["ex_date"])
        if action["type"] == "SPLIT" and ex <= day:
            events.append((ex, 0, action))
    held: dict[tuple[str, str], int] = defaultdict(int)
    for _, order, event in sorted(events, key=lambda e: (e[0], e[1])):
        if order == 1:
            held[(event["account_number"], event["symbol"])] += _signed(event)
        else:
            for key in [k for k in held if k[1] == event["symbol"]]:
                held[key] = held[key] * event["ratio_new"] // event["ratio_old"]
    return {k: v for k, v in held.items() if v}


def _dividends(books: Books, actions: list[dict], day: date) -> list[dict]:
    """Dividends paid by `day`: shares held at the close of the session before the
    ex-date times the rate."""
    paid = []
    for action in actions:
        pay = date.fromisoformat(action["pay_date"])
        if action["type"] != "DIV" or pay > day:
            continue
        ex = date.fromisoformat(action["ex_date"])
        rate = Decimal(action["rate"])
        held = _positions(books, actions, previous_session(ex))
        for (number, symbol), qty in sorted(held.items()):
            if symbol == action["symbol"] and qty > 0:
                amount = (rate * qty).quantize(CENT, ROUND_HALF_UP)
                paid.append(
                    {"action": action, "account_number": number, "qty": qty, "amount": amount}
                )
    return paid


def answer(
    business_date: date,
    inject: list[str] | None = None,
    again: bool = False,
) -> Answer:
    """Write the morning files for `business_date` to CLEARING_INBOX_DIR (once per date
    unless `again`; a second answer would carry new sequence numbers)."""
    state = load_state()
    key = business_date.isoformat()
    if key in state["answered"] and not again and not inject:
        return Answer(business_date, [Path(p) for p in state["answered"][key]], [])
    books = read_outbound(business_date)
    injected = []
    for kind in inject or []:
        if kind not in INJECTIONS:
            raise ValueError(f"unknown break {kind!r}: one of {', '.join(INJECTIONS)}")
        injected.append(_choose_injection(kind, books, business_date))
    state["injections"].extend(injected)
    cash_differences = _inject(books, state["injections"])
    actions = state["actions"]
    for action in actions:
        action["cusip"] = books.cusips.get(action["symbol"], "")

    positions = _positions(books, actions, business_date)
    settled: dict[str, Decimal] = {number: Decimal("0.00") for number in books.accounts}
    activity = []
    for reference, trade in books.trades.items():
        cancelled = books.cancels.get(reference)
        live = not (cancelled and cancelled <= business_date)
        if live and trade["settlement_date"] <= business_date:
            settled[trade["account_number"]] += trade["net_amount"]
        if live and trade["trade_date"] == business_date:
            activity.append(
                _activity("TRD", reference, trade, _signed(trade), trade["net_amount"])
                | {"trade_date": trade["trade_date"], "settlement_date": trade["settlement_date"]}
            )
        if cancelled == business_date:
            activity.append(
                _activity("TRX", reference, trade, -_signed(trade), -trade["net_amount"])
                | {"trade_date": trade["trade_date"], "settlement_date": trade["settlement_date"]}
            )
    for movement in books.money:
        if movement["settlement_date"] <= business_date:
            settled[movement["account_number"]] += movement["amount"]
        if movement["date"] == business_date:
            activity.append(
                _activity(movement["type"], movement["reference"], movement, 0, movement["amount"])
                | {"trade_date": movement["date"], "settlement_date": movement["settlement_date"]}
            )
    for dividend in _dividends(books, actions, business_date):
        number = dividend["account_number"]
        if number not in settled:
            continue
        # The clearing firm withholds US tax by the account's tax form and treaty claim,
        # by the same rules as the portal (accounts/money/withholding.py).
        account = books.accounts[number]
        rule, _ = withholding.dividend_withholding(
            account.get("tax_form", ""), account.get("treaty_country", "")
        )
        tax = (dividend["amount"] * rule.rate).quantize(CENT, ROUND_HALF_UP)
        settled[number] += dividend["amount"] - tax
        pay = date.fromisoformat(dividend["action"]["pay_date"])
        if pay == business_date:
            base = {
                "reference": dividend["action"]["action_id"],
                "account_number": number,
                "symbol": dividend["action"]["symbol"],
                "trade_date": pay,
                "settlement_date": pay,
            }
            activity.append(
                base
                | {"activity_type": "DIV", "qty": dividend["qty"], "net_amount": dividend["amount"]}
            )
            if tax:
                kind = "DIVNRA" if rule.kind == JournalEntryKind.NRA_WITHHOLDING else "DIVWH"
                activity.append(base | {"activity_type": kind, "qty": 0, "net_amount": -tax})
    for action in actions:
        ex = date.fromisoformat(action["ex_date"])
        if action["type"] != "SPLIT" or ex > business_date:
            continue
        pay = date.fromisoformat(action["pay_date"])
        price = Decimal(action["cash_in_lieu_price"]) if action.get("cash_in_lieu_price") else None
        before = _positions(books, actions, ex - timedelta(days=1))
        for (number, symbol), qty in sorted(before.items()):
            if symbol != action["symbol"] or number not in settled:
                continue
            after = qty * action["ratio_new"] // action["ratio_old"]
            fraction = (
                Decimal(qty * action["ratio_new"] % action["ratio_old"]) / action["ratio_old"]
            )
            cash = (fraction * price).quantize(CENT, ROUND_HALF_UP) if price and qty > 0 else 0
            if cash and pay <= business_date:
                settled[number] += cash
            if ex != business_date:
                continue
            split = {
                "reference": action["action_id"],
                "account_number": number,
                "symbol": symbol,
                "trade_date": ex,
                "settlement_date": pay,
            }
            activity.append(
                split
                | {"activity_type": "SPLIT", "qty": after - qty, "net_amount": Decimal("0.00")}
            )
            if cash:
                activity.append(split | {"activity_type": "CIL", "qty": 0, "net_amount": cash})
    for difference in cash_differences:
        if date.fromisoformat(difference["date"]) <= business_date:
            number = difference["account_number"]
            if number in settled:
                settled[number] += Decimal(difference["amount"])

    announced = [
        {
            "action_id": a["action_id"],
            "type": a["type"],
            "symbol": a["symbol"],
            "cusip": a.get("cusip", ""),
            "ex_date": date.fromisoformat(a["ex_date"]),
            "record_date": date.fromisoformat(a["record_date"]),
            "pay_date": date.fromisoformat(a["pay_date"]),
            "rate": Decimal(a["rate"]) if a.get("rate") else None,
            "ratio_new": a.get("ratio_new"),
            "ratio_old": a.get("ratio_old"),
            "cash_in_lieu_price": (
                Decimal(a["cash_in_lieu_price"]) if a.get("cash_in_lieu_price") else None
            ),
        }
        for a in actions
        if max(date.fromisoformat(a["pay_date"]), date.fromisoformat(a["ex_date"])) >= business_date
    ]
    contents = {
        "POSITIONS": [
            {
                "account_number": number,
                "symbol": symbol,
                "cusip": books.cusips.get(symbol, ""),
                "qty": qty,
            }
            for (number, symbol), qty in sorted(positions.items())
            if number in books.accounts
        ],
        "CASH": [
            {"account_number": number, "settled_cash": amount}
            for number, amount in sorted(settled.items())
        ],
        "ACTIVITY": activity,
        "CORPACT": announced,
    }
    written = []
    for file_type, records in contents.items():
        sequence = state["sequences"].get(file_type, 0) + 1
        result = files.write_file(
            Path(settings.CLEARING_INBOX_DIR),
            file_type,
            settings.CLEARING_FIRM_ID,
            settings.CLEARING_CORRESPONDENT_ID,
            business_date,
            sequence,
            records,
        )
        state["sequences"][file_type] = sequence
        written.append(result.path)
    state["answered"][key] = [str(p) for p in written]
    save_state(state)
    log.info("Clearing firm: answered %s with %s", business_date, [p.name for p in written])
    return Answer(business_date, written, injected)


def _activity(kind: str, reference: str, record: dict, qty: int, amount: Decimal) -> dict:
    return {
        "activity_type": kind,
        "reference": reference,
        "account_number": record["account_number"],
        "symbol": record.get("symbol", ""),
        "qty": qty,
        "net_amount": amount,
    }
