"""Market data v2 from the market data provider's session paths (`market_data.Ticks`):
intraday bars (1Min to 23Hour), the current session's daily bar, latest bars,
snapshots, and historical quotes and trades.

A provider's path is a function of the symbol, its reference price and the day (the
simulated market's is), so every process serves the same bars, quotes and trades for
the same moment, and the quote `/latest` gives at a moment is the one the historical
quotes list for it. Pages are `limit` items (1000; up to 10000) across the symbols,
symbol by symbol, continued with `next_page_token`.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from trading.alpaca import errors, formats
from trading.alpaca.market import EXCHANGE_CODES, latest_quotes, latest_trades
from trading.market import market_data
from trading.market.market_data import Bar, Ticks
from trading.market.models import DailyClose, Security

NEW_YORK = market_data.NEW_YORK
DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000
DAY = 1440
TIMEFRAME = re.compile(r"^(\d{1,3})(Min|T|Hour|H|Day|D|Week|W|Month|M)$")


def now() -> datetime:
    """The moment data is served for (tests pin it)."""
    return timezone.now()


# --- Parameters ----------------------------------------------------------------------------


def _bad(message: str) -> errors.AlpacaError:
    return errors.AlpacaError(400, errors.INVALID, message)


def timeframe_minutes(value: str | None) -> int:
    """Minutes of a bar: NMin (1-59), NHour (1-23) or 1Day; weeks and months are refused."""
    match = TIMEFRAME.match((value or "").strip())
    if not match:
        raise _bad(f"invalid timeframe: {str(value)[:20]} (e.g. 1Min, 5Min, 15Min, 1Hour, 1Day)")
    amount, unit = int(match.group(1)), match.group(2)
    if unit in ("Min", "T") and 1 <= amount <= 59:
        return amount
    if unit in ("Hour", "H") and 1 <= amount <= 23:
        return amount * 60
    if unit in ("Day", "D") and amount == 1:
        return DAY
    if unit in ("Week", "W", "Month", "M"):
        raise errors.AlpacaError(
            422, errors.UNPROCESSABLE, "weekly and monthly bars are not offered: use 1Day"
        )
    raise _bad(f"invalid timeframe: {value} (minutes 1-59, hours 1-23, or 1Day)")


def _moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace(" ", "+")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(f"invalid {name}: {value[:40]} (RFC 3339, e.g. 2025-01-02T15:04:05Z)") from None
    if not formats.date_in_range(parsed):
        raise errors.invalid(formats.range_message(name))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _limit(params) -> int:
    raw = params.get("limit")
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise _bad("invalid limit: a whole number from 1 to 10000") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad(f"limit must be from 1 to {MAX_LIMIT}")
    return limit


def _sort(params) -> bool:
    sort = params.get("sort") or "asc"
    if sort not in ("asc", "desc"):
        raise _bad("sort must be asc or desc")
    return sort == "desc"


def _token(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    try:
        symbol, stamp = json.loads(base64.urlsafe_b64decode(value.encode() + b"=="))
        if not isinstance(symbol, str) or not isinstance(stamp, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error):
        raise _bad("invalid page_token") from None
    return symbol, stamp


def _make_token(symbol: str, stamp: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([symbol, stamp]).encode()).decode().rstrip("=")


def _range(params, default_start: datetime | None) -> tuple[datetime, datetime]:
    current = now()
    start = _moment(params.get("start"), "start") or default_start
    end = _moment(params.get("end"), "end") or current
    start = start or datetime(2000, 1, 1, tzinfo=UTC)
    if start > end:
        raise errors.invalid("start must not be after end")
    return start, end


def _start_of_today() -> datetime:
    return datetime.combine(now().astimezone(NEW_YORK).date(), time.min, tzinfo=NEW_YORK)


# --- Shapes --------------------------------------------------------------------------------


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def bar_dict(bar: Bar) -> dict:
    return {
        "t": rfc3339(bar.start),
        "o": bar.open,
        "h": bar.high,
        "l": bar.low,
        "c": bar.close,
        "v": bar.volume,
        "n": bar.trades,
        "vw": bar.vwap,
    }


# --- Paging across symbols ------------------------------------------------------------------

Producer = Callable[[Security, bool, tuple[str, str] | None], Iterator[tuple[str, dict]]]


def _paged(
    securities: list[Security], produce: Producer, params, key: str
) -> dict[str, dict[str, list[dict]] | str | None]:
    """Items of each security in time order (`sort`), at most `limit` in all, after the
    `page_token`; the next token names the last item given."""
    limit, descending, token = _limit(params), _sort(params), _token(params.get("page_token"))
    out: dict[str, list[dict]] = {}
    taken, last = 0, None
    for security in sorted(securities, key=lambda s: s.symbol):
        if token and security.symbol < token[0]:
            continue
        after = token if token and token[0] == security.symbol else None
        for stamp, item in produce(security, descending, after):
            if taken == limit:
                return {key: out, "next_page_token": _make_token(*last)}
            out.setdefault(security.symbol, []).append(item)
            taken, last = taken + 1, (security.symbol, stamp)
    return {key: out, "next_page_token": None}


def _after(stamp: str, after: tuple[str, str] | None, descending: bool) -> bool:
    if after is None:
        return True
    return stamp < after[1] if descending else stamp > after[1]


def _sessions(start: datetime, end: datetime, descending: bool, after) -> list:
    first = start.astimezone(NEW_YORK).date()
    last = end.astimezone(NEW_YORK).date()
    if after is not None:  # start where the previous page stopped
        resumed = _moment(after[1], "page_token").astimezone(NEW_YORK).date()
        first, last = (first, min(last, resumed)) if descending else (max(first, resumed), last)
    found = [s for s in market_data.sessions_between(first, last) if s.open <= now()]
    return found[::-1] if descending else found


def _securities(symbols: list[str]) -> list[Security]:
    return list(Security.objects.filter(symbol__in=symbols))


# --- Bars ----------------------------------------------------------------------------------


def _intraday(minutes: int, start: datetime, end: datetime) -> Producer:
    def produce(security, descending, after):
        for session in _sessions(start, end, descending, after):
            ticks = market_data.session_ticks(security, session)
            found = market_data.bars_of_session(ticks, minutes, now())
            for bar in reversed(found) if descending else found:
                stamp = rfc3339(bar.start)
                if start <= bar.start <= end and _after(stamp, after, descending):
                    yield stamp, bar_dict(bar)

    return produce


def current_daily_bar(security: Security, at: datetime | None = None) -> Bar | None:
    """The daily bar of the session under way at `at` (now), or of the last one."""
    session, _ = market_data.quote_session(at or now())
    return market_data.daily_bar(market_data.session_ticks(security, session), at or now())


def _daily(start: datetime, end: datetime) -> Producer:
    """Past sessions from the stored closes (open = the previous close, high and low the
    larger and smaller of open and close, as only closes are stored); the current
    session, before its close is stored, from the provider's path (true high and low)."""

    def produce(security, descending, after):
        first = start.astimezone(NEW_YORK).date()
        last = end.astimezone(NEW_YORK).date()
        rows = list(
            DailyClose.objects.filter(
                security=security, date__gte=first - timedelta(days=10), date__lte=last
            )
            .order_by("date")
            .values_list("date", "close", "volume")
        )
        bars: list[Bar] = []
        previous = None
        for day, close, volume in rows:
            close_f = float(close)
            opened = previous if previous is not None else close_f
            previous = close_f
            midnight = datetime.combine(day, time.min, tzinfo=NEW_YORK)
            bars.append(
                Bar(
                    midnight,
                    opened,
                    max(opened, close_f),
                    min(opened, close_f),
                    close_f,
                    volume,
                    0,
                    close_f,
                )
            )
        stored = {row[0] for row in rows}
        today = current_daily_bar(security)
        if today and today.start.date() not in stored:
            bars.append(today)
        keyed = []
        for bar in bars:
            if start <= bar.start <= end:
                item = bar_dict(bar)
                if bar is not today:
                    item["n"] = item["vw"] = None  # not known from a stored close
                keyed.append((rfc3339(bar.start), item))
        for stamp, item in reversed(keyed) if descending else keyed:
            if _after(stamp, after, descending):
                yield stamp, item

    return produce


def bars(symbols: list[str], params) -> dict:
    minutes = timeframe_minutes(params.get("timeframe"))
    if minutes == DAY:
        start, end = _range(params, None)
        return _paged(_securities(symbols), _daily(start, end), params, "bars")
    start, end = _range(params, _start_of_today())
    return _paged(_securities(symbols), _intraday(minutes, start, end), params, "bars")


def latest_bar(security: Security, at: datetime | None = None) -> Bar | None:
    """The latest minute bar (the one under way while the market is open)."""
    at = at or now()
    session, trading = market_data.quote_session(at)
    ticks = market_data.session_ticks(security, session)
    found = market_data.bars_of_session(ticks, 1, at if trading else None)
    return found[-1] if found else None


def latest_bars(symbols: list[str]) -> dict[str, dict]:
    out = {}
    for security in _securities(symbols):
        bar = latest_bar(security)
        if bar is not None:
            out[security.symbol] = bar_dict(bar)
    return out


# --- Quotes and trades ----------------------------------------------------------------------


def _codes(security: Security) -> tuple[str, str]:
    return EXCHANGE_CODES.get(security.exchange, ("N", "A"))


def _quotes(start: datetime, end: datetime) -> Producer:
    """One quote per step of the path (the provider's quote at that moment)."""

    def produce(security, descending, after):
        code, tape = _codes(security)
        for session in _sessions(start, end, descending, after):
            ticks = market_data.session_ticks(security, session)
            count = min(ticks.count_until(min(end, now())), len(ticks.prices) - 1)
            steps = range(count - 1, -1, -1) if descending else range(count)
            for k in steps:
                moment = ticks.time(k)
                stamp = rfc3339(moment)
                if moment < start or not _after(stamp, after, descending):
                    continue
                quote = market_data.quote_around(
                    security.symbol,
                    security.price_increment,
                    Decimal(str(ticks.prices[k])),
                    volume=ticks.volumes[k],
                    timestamp=moment,
                    market_open=True,
                )
                yield (
                    stamp,
                    {
                        "t": stamp,
                        "ax": code,
                        "ap": float(quote.ask),
                        "as": quote.ask_size,
                        "bx": code,
                        "bp": float(quote.bid),
                        "bs": quote.bid_size,
                        "c": ["R"],
                        "z": tape,
                    },
                )

    return produce


def _trade_id(ticks: Ticks, k: int) -> int:
    return ticks.session.day.toordinal() * 10_000 + k


def _trades(start: datetime, end: datetime) -> Producer:
    """A trade at each step where volume was traded: the shares since the step before,
    at the step's price; the close is the closing print."""

    def produce(security, descending, after):
        code, tape = _codes(security)
        for session in _sessions(start, end, descending, after):
            ticks = market_data.session_ticks(security, session)
            count = ticks.count_until(min(end, now()))
            steps = range(count - 1, -1, -1) if descending else range(count)
            for k in steps:
                size = ticks.volumes[k] - (ticks.volumes[k - 1] if k else 0)
                moment = ticks.time(k)
                stamp = rfc3339(moment)
                if size <= 0 or moment < start or not _after(stamp, after, descending):
                    continue
                closing = k == len(ticks.prices) - 1
                yield (
                    stamp,
                    {
                        "t": stamp,
                        "x": code,
                        "p": ticks.prices[k],
                        "s": size,
                        "c": ["@", "6"] if closing else ["@"],
                        "i": _trade_id(ticks, k),
                        "z": tape,
                    },
                )

    return produce


def quotes(symbols: list[str], params) -> dict:
    start, end = _range(params, _start_of_today())
    return _paged(_securities(symbols), _quotes(start, end), params, "quotes")


def trades(symbols: list[str], params) -> dict:
    start, end = _range(params, _start_of_today())
    return _paged(_securities(symbols), _trades(start, end), params, "trades")


# --- Snapshots ------------------------------------------------------------------------------


def snapshots(symbols: list[str]) -> dict[str, dict]:
    """Latest trade and quote (as /latest gives them), the latest minute bar, the daily
    bar of the current (or last) session and of the session before."""
    at = now()
    securities = _securities(symbols)
    found = [s.symbol for s in securities]
    trades_now, quotes_now = latest_trades(found), latest_quotes(found)
    out = {}
    for security in securities:
        session, _ = market_data.quote_session(at)
        previous = market_data.session_for(session.previous)
        minute = latest_bar(security, at)
        daily = current_daily_bar(security, at)
        before = (
            market_data.daily_bar(market_data.session_ticks(security, previous))
            if previous
            else None
        )
        out[security.symbol] = {
            "latestTrade": trades_now.get(security.symbol),
            "latestQuote": quotes_now.get(security.symbol),
            "minuteBar": bar_dict(minute) if minute else None,
            "dailyBar": bar_dict(daily) if daily else None,
            "prevDailyBar": bar_dict(before) if before else None,
        }
    return out


__all__ = ["bars", "latest_bars", "quotes", "snapshots", "timeframe_minutes", "trades"]
