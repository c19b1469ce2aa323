"""Market information through the trading API: assets (the security master), the
clock and calendar (NYSE, exchange-calendars), and market data v2 (latest quotes and
trades from the market data provider; bars, snapshots and history are in data.py)."""

from datetime import date, datetime

import pandas as pd
from django.db.models import Q
from django.utils import timezone

from trading.alpaca import errors, formats
from trading.alpaca.formats import exchange, parse_uuid
from trading.market import market_data
from trading.market.calendar import nyse
from trading.market.models import Security

NEW_YORK = market_data.NEW_YORK
MAX_SYMBOLS = market_data.MAX_SYMBOLS_PER_REQUEST
# Exchange and tape codes of the consolidated feeds: N = NYSE (tape A), Q = Nasdaq (tape C).
EXCHANGE_CODES = {"NYSE": ("N", "A"), "NASDAQ": ("Q", "C"), "ARCA": ("P", "B"), "AMEX": ("A", "B")}


# --- Assets ----------------------------------------------------------------------------------


def asset_dict(security: Security) -> dict:
    return {
        "id": str(security.uuid),
        "class": "us_equity",
        "exchange": exchange(security),
        "symbol": security.symbol,
        "name": security.name,
        "status": security.status,
        "tradable": security.tradable
        and not security.halted
        and security.status == Security.Status.ACTIVE,
        "marginable": security.marginable,
        "maintenance_margin_requirement": 30 if security.marginable else 100,
        # Honest for this firm: no short sales (so nothing is shortable or easy to borrow
        # here, whatever the market's borrow) and whole shares only.
        "shortable": False,
        "easy_to_borrow": False,
        "fractionable": False,
        "min_order_size": "1",
        "min_trade_increment": "1",
        "price_increment": str(max(security.price_increment, market_data.PRICE_PLACES * 100)),
        "attributes": [],
    }


def assets(params) -> list[Security]:
    status = params.get("status")
    asset_class = params.get("asset_class") or "us_equity"
    queryset = Security.objects.all().order_by("symbol")
    if asset_class != "us_equity":
        return []
    if status:
        if status not in Security.Status.values:
            raise errors.invalid("status must be active or inactive")
        queryset = queryset.filter(status=status)
    if params.get("exchange"):
        queryset = queryset.filter(exchange=params["exchange"].upper())
    return list(queryset)


def asset(symbol_or_id: str) -> Security:
    asset_uuid = parse_uuid(symbol_or_id)
    found = Security.objects.filter(
        Q(uuid=asset_uuid) if asset_uuid else Q(symbol=symbol_or_id.strip().upper())
    ).first()
    if found is None:
        raise errors.not_found("asset not found")
    return found


# --- Clock and calendar ---------------------------------------------------------------------


def clock(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    calendar = nyse()
    minute = pd.Timestamp(now).floor("min")
    is_open = market_data.is_market_open(now)
    next_open = calendar.next_open(minute).to_pydatetime()
    next_close = calendar.next_close(minute).to_pydatetime()
    return {
        "timestamp": now.astimezone(NEW_YORK),
        "is_open": is_open,
        "next_open": next_open.astimezone(NEW_YORK),
        "next_close": next_close.astimezone(NEW_YORK),
    }


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise errors.invalid(f"{name} must be a date, e.g. 2024-01-31", status=400) from None
    if not formats.date_in_range(day):
        raise errors.invalid(formats.range_message(name))
    return day


def calendar(params) -> list[dict]:
    """GET /v2/calendar: NYSE sessions from `start` to `end` (dates), by default all the
    calendar holds (2000 to three years ahead)."""
    cal = nyse()
    first, last = cal.first_session.date(), cal.last_session.date()
    start = max(_day(params.get("start"), "start") or first, first)
    end = min(_day(params.get("end"), "end") or last, last)
    if start > end:
        return []
    sessions = cal.schedule.index
    days = [d.isoformat() for d in sessions.date]
    first = int(sessions.searchsorted(pd.Timestamp(start)))
    last = int(sessions.searchsorted(pd.Timestamp(end), side="right"))
    opens = cal.schedule["open"].iloc[first:last].dt.tz_convert(NEW_YORK).dt.strftime("%H:%M")
    closes = cal.schedule["close"].iloc[first:last].dt.tz_convert(NEW_YORK).dt.strftime("%H:%M")
    out = []
    for offset, (opened, closed) in enumerate(zip(opens, closes, strict=True)):
        index = first + offset
        out.append(
            {
                "date": days[index],
                "open": opened,
                "close": closed,
                "session_open": "0400",
                "session_close": "2000",
                # Trades settle T+1: the next session (unknown after the calendar's last).
                "settlement_date": days[index + 1] if index + 1 < len(days) else None,
            }
        )
    return out


# --- Market data v2 -------------------------------------------------------------------------


def symbols_param(value: str | None) -> list[str]:
    wanted = list(dict.fromkeys(s.strip().upper() for s in (value or "").split(",") if s.strip()))
    if not wanted:
        raise errors.AlpacaError(400, errors.MALFORMED, "missing symbols")
    if len(wanted) > MAX_SYMBOLS:
        raise errors.AlpacaError(400, errors.MALFORMED, f"at most {MAX_SYMBOLS} symbols")
    for symbol in wanted:
        if len(symbol) > 12 or not symbol.replace(".", "").replace("-", "").isalnum():
            raise errors.AlpacaError(400, errors.MALFORMED, f"invalid symbol: {symbol}")
    return wanted


def _codes(quote_symbol: str, securities: dict[str, Security]) -> tuple[str, str]:
    security = securities.get(quote_symbol)
    return EXCHANGE_CODES.get(security.exchange if security else "", ("N", "A"))


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.UTC).isoformat().replace("+00:00", "Z")


def latest_quotes(symbols: list[str]) -> dict[str, dict]:
    """Latest quotes of the known symbols (unknown ones are left out, as Alpaca does)."""
    quotes = market_data.get_quotes(symbols)
    exchanges = dict(
        Security.objects.filter(symbol__in=list(quotes)).values_list("symbol", "exchange")
    )
    out = {}
    for symbol, q in quotes.items():
        code, tape = EXCHANGE_CODES.get(exchanges.get(symbol, ""), ("N", "A"))
        out[symbol] = {
            "t": _rfc3339(q.timestamp),
            "ax": code,
            "ap": float(q.ask),
            "as": q.ask_size,
            "bx": code,
            "bp": float(q.bid),
            "bs": q.bid_size,
            "c": ["R"],
            "z": tape,
        }
    return out


def latest_trades(symbols: list[str]) -> dict[str, dict]:
    """The last sale of each known symbol. The provider gives the last price, not the
    size of that sale: the size is a round lot (100)."""
    quotes = market_data.get_quotes(symbols)
    exchanges = dict(
        Security.objects.filter(symbol__in=list(quotes)).values_list("symbol", "exchange")
    )
    out = {}
    for symbol, q in quotes.items():
        code, tape = EXCHANGE_CODES.get(exchanges.get(symbol, ""), ("N", "A"))
        out[symbol] = {
            "t": _rfc3339(q.timestamp),
            "x": code,
            "p": float(q.last),
            "s": 100,
            "c": ["@"],
            "i": int(q.timestamp.timestamp() * 1000),
            "z": tape,
        }
    return out
