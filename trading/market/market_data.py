"""Market data: quotes, the NYSE regular session, and daily closing prices.

Public API (what other code calls):

- `Quote`: a frozen dataclass (symbol, bid, ask, last, bid_size, ask_size, volume,
  timestamp, market_open); prices are `Decimal`s with 4 places.
- `get_quote(symbol, at=None) -> Quote | None` (None for a symbol not in the security
  master) and `get_quotes(symbols, at=None) -> dict[str, Quote]` (unknown symbols left
  out). `at` defaults to now; quotes are cached for `QUOTE_CACHE_SECONDS` in the
  `market_data` cache (Redis with REDIS_URL, else each process's memory).
- `get_previous_close(symbol, at=None) -> Decimal | None`: the close of the session
  before the one the quote at `at` belongs to (for "change from previous close").
- `previous_close_time(at=None) -> datetime`: when that previous session closed (what
  "today's trades" count from).
- `is_market_open(at=None) -> bool`: the regular session, 9:30 to 16:00 New York time
  on NYSE trading days, 13:00 on early-close days (exchange-calendars' XNYS).
- `record_daily_closes(day=None) -> int`: stores a `DailyClose` per active security for
  a session that has closed (default: the last one); running it again updates in place.
- `provider()`: the `MarketDataProvider` named by `settings.MARKET_DATA_PROVIDER`.
- `session_ticks(security, session) -> Ticks`: the provider's path of a session (price
  and volume so far every `STEP_SECONDS`, then the close), computed once per process;
  `bars_of_session(ticks, minutes, until)` and `daily_bar(ticks, until)` make bars of
  it; `session_for(day)` and `sessions_between(first, last)` give NYSE sessions.

Pinning a price (tests): `set_quote_override("AAPL", Decimal("150.00"))` makes every
quote of AAPL in this process have last = 150.00 (bid and ask a few ticks around it),
and `record_daily_closes` store 150.00 as its close, whatever the time;
`set_quote_override("AAPL", None)` or `clear_quote_overrides()` ends it (the test suite
clears them after each test). Overrides live in the process's memory: a routing engine
simulator run in a thread of the test sees them, one in another process does not.

The default provider, `SimulatedMarket`, needs no feed and no shared state: the price
of a symbol at a moment is a pure function of (symbol, reference price, time), so the
web, the worker and the routing engine simulator compute the same quote for the same
moment without talking to each other. See `SimulatedMarket` for the model.
"""

import hashlib
from abc import ABC, abstractmethod
from array import array
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from rushtrade.errors import FieldError, ServiceError
from trading.market.calendar import nyse
from trading.market.models import DailyClose, Security

NEW_YORK = ZoneInfo("America/New_York")
PRICE_PLACES = Decimal("0.0001")
QUOTE_CACHE_SECONDS = 5
QUOTE_CACHE = "market_data"  # the CACHES alias; "default" when it is not configured
MAX_SYMBOLS_PER_REQUEST = 100
CACHE_PREFIX = "md:v1"


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: Decimal
    ask: Decimal
    last: Decimal
    bid_size: int
    ask_size: int
    volume: int
    timestamp: datetime
    market_open: bool

    @property
    def spread(self) -> Decimal:
        return self.ask - self.bid


# --- The NYSE session -------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """One NYSE trading day: its open and close (aware, UTC) and the session before it."""

    day: date
    open: datetime
    close: datetime
    previous: date


@lru_cache(maxsize=4096)
def _session(day: date) -> Session | None:
    calendar = nyse()
    stamp = pd.Timestamp(day)
    try:
        if not calendar.is_session(stamp):
            return None
        previous = calendar.previous_session(stamp).date()
    except ValueError:  # outside the calendar's years (exchange_calendars.DateOutOfBounds)
        return None
    return Session(
        day,
        calendar.session_open(stamp).to_pydatetime(),
        calendar.session_close(stamp).to_pydatetime(),
        previous,
    )


@lru_cache(maxsize=4096)
def _session_before(day: date) -> Session:
    """The last session strictly before `day` (clamped to the calendar's last session)."""
    calendar = nyse()
    stamp = min(pd.Timestamp(day - timedelta(days=1)), calendar.last_session)
    found = _session(calendar.date_to_session(stamp, direction="previous").date())
    assert found is not None
    return found


def _aware(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    return at if at.tzinfo is not None else at.replace(tzinfo=NEW_YORK)


def quote_session(at: datetime | None = None) -> tuple[Session, bool]:
    """The session a quote at `at` belongs to, and whether it is trading then: today's
    once it has opened, before that (and on non-trading days) the previous one's."""
    at = _aware(at)
    day = at.astimezone(NEW_YORK).date()
    session = _session(day)
    if session is not None and at >= session.open:
        return session, at < session.close
    return _session_before(day), False


def previous_close_time(at: datetime | None = None) -> datetime:
    """When the previous close was (aware): the close of the session before the quote's
    session at `at`. "Day change" counts from it: trades since then are today's."""
    session, _ = quote_session(at)
    previous = _session(session.previous)
    assert previous is not None  # the previous session of a session is one
    return previous.close


def is_market_open(at: datetime | None = None) -> bool:
    """Whether the NYSE regular session is on at `at` (default now; a naive `at` is
    New York time). Pre- and post-market hours count as closed."""
    at = _aware(at)
    session = _session(at.astimezone(NEW_YORK).date())
    return session is not None and session.open <= at < session.close


def last_closed_session(at: datetime | None = None) -> Session:
    """The latest session whose close is at or before `at` (default now)."""
    session, _ = quote_session(at)
    return session if _aware(at) >= session.close else _session_before(session.day)


def session_for(day: date) -> Session | None:
    """The NYSE session on `day`, or None when the market does not open that day."""
    return _session(day)


def sessions_between(first: date, last: date) -> list[Session]:
    """The sessions from `first` to `last` (dates, both included), oldest first."""
    calendar = nyse()
    first = max(first, calendar.first_session.date())
    last = min(last, calendar.last_session.date())
    if first > last:
        return []
    days = calendar.sessions_in_range(pd.Timestamp(first), pd.Timestamp(last))
    return [found for day in days if (found := _session(day.date())) is not None]


def session_steps(session: Session, step_seconds: int) -> int:
    return max(1, int((session.close - session.open).total_seconds()) // step_seconds)


# --- A session's path and its bars ----------------------------------------------------


@dataclass(frozen=True)
class Ticks:
    """A session's price path: `prices[k]` and `volumes[k]` (shares traded since the
    open) at `session.open + k * step_seconds`; the last entry is the close."""

    session: Session
    step_seconds: int
    prices: array
    volumes: array

    def time(self, k: int) -> datetime:
        if k >= len(self.prices) - 1:
            return self.session.close
        return self.session.open + timedelta(seconds=k * self.step_seconds)

    def count_until(self, until: datetime | None) -> int:
        """How many of the entries had happened by `until` (all when None)."""
        if until is None or until >= self.session.close:
            return len(self.prices)
        if until < self.session.open:
            return 0
        elapsed = int((until - self.session.open).total_seconds()) // self.step_seconds
        return min(elapsed + 1, len(self.prices) - 1)

    def price_at(self, at: datetime) -> float:
        """The last price at `at` (the previous close before the open)."""
        count = self.count_until(at)
        return self.prices[count - 1] if count else self.prices[0]


@dataclass(frozen=True)
class Bar:
    """An OHLC bar: `start` is the beginning of its window (aware, UTC)."""

    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int
    trades: int
    vwap: float


@lru_cache(maxsize=512)
def _ticks(path: str, symbol: str, reference: Decimal, increment: Decimal, day: date) -> Ticks:
    session = _session(day)
    assert session is not None
    security = Security(symbol=symbol, reference_price=reference, price_increment=increment)
    return _provider_for(path).ticks(security, session)


def session_ticks(security: Security, session: Session) -> Ticks:
    """The provider's path of `security` on `session`, computed once per process (the
    same in every process: the provider's path is a function of the symbol, its
    reference price and the day)."""
    return _ticks(
        settings.MARKET_DATA_PROVIDER,
        security.symbol,
        security.reference_price,
        security.price_increment,
        session.day,
    )


def _bar(ticks: Ticks, first: int, last: int, start: datetime, volume_before: int) -> Bar:
    prices, volumes = ticks.prices, ticks.volumes
    window = prices[first : last + 1]
    traded, weighted, trades, previous = 0, 0.0, 0, volume_before
    for k in range(first, last + 1):
        delta = volumes[k] - previous
        if delta > 0:
            traded += delta
            weighted += delta * prices[k]
            trades += 1
        previous = volumes[k]
    vwap = round(weighted / traded, 4) if traded else prices[last]
    return Bar(start, window[0], max(window), min(window), prices[last], traded, trades, vwap)


def bars_of_session(ticks: Ticks, minutes: int, until: datetime | None = None) -> list[Bar]:
    """The session's bars of `minutes` (1 to 1440), each window aligned on the clock
    (an hour's bars start on the hour, the day's at midnight New York time), with what
    had happened by `until`. The close belongs to the last bar of the session."""
    count = ticks.count_until(until)
    if count == 0:
        return []
    width = minutes * 60
    out: list[Bar] = []
    first, bucket_of_first = 0, None
    volume_before = 0
    for k in range(count):
        moment = ticks.time(k)
        if k == len(ticks.prices) - 1 and k > 0:
            moment = ticks.time(k - 1)  # the closing print goes in the session's last bar
        if minutes >= 1440:
            local = moment.astimezone(NEW_YORK)
            bucket = datetime(local.year, local.month, local.day, tzinfo=NEW_YORK)
        else:
            seconds = int(moment.timestamp())
            bucket = datetime.fromtimestamp(seconds - seconds % width, tz=UTC)
        if bucket_of_first is None:
            bucket_of_first = bucket
        elif bucket != bucket_of_first:
            out.append(_bar(ticks, first, k - 1, bucket_of_first, volume_before))
            volume_before = ticks.volumes[k - 1]
            first, bucket_of_first = k, bucket
    out.append(_bar(ticks, first, count - 1, bucket_of_first, volume_before))
    return out


def daily_bar(ticks: Ticks, until: datetime | None = None) -> Bar | None:
    """The session's daily bar (so far, by `until`), stamped at midnight New York time."""
    found = bars_of_session(ticks, 1440, until)
    return found[0] if found else None


# --- Providers --------------------------------------------------------------------


class MarketDataProvider(ABC):
    """Where quotes and closing prices come from. The module's functions add the
    security lookup, caching and test overrides around it."""

    @abstractmethod
    def quote(self, security: Security, at: datetime) -> Quote:
        """The quote of `security` at `at` (aware); frozen at the last close, with
        market_open False, outside the regular session."""

    @abstractmethod
    def session_close(self, security: Security, day: date) -> tuple[Decimal, int]:
        """The closing price and the volume of `security` on session `day`."""

    STEP_SECONDS = 15

    def ticks(self, security: Security, session: Session) -> "Ticks":
        """The session's path: the last price and the volume so far at each step of
        `STEP_SECONDS` from the open, then the close. This default samples `quote`;
        a provider that can compute its path directly overrides it."""
        steps = session_steps(session, self.STEP_SECONDS)
        prices, volumes = array("d"), array("q")
        for k in range(steps):
            quote = self.quote(security, session.open + timedelta(seconds=k * self.STEP_SECONDS))
            prices.append(float(quote.last))
            volumes.append(quote.volume)
        close, volume = self.session_close(security, session.day)
        prices.append(float(close))
        volumes.append(max(volume, volumes[-1] if volumes else 0))
        return Ticks(session, self.STEP_SECONDS, prices, volumes)


def unit(*parts: object) -> float:
    """A uniform number in (0, 1), the same in every process for the same parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return ((int.from_bytes(digest[:8], "big") >> 11) + 0.5) / 2.0**53


def on_tick(price: Decimal | float, increment: Decimal) -> Decimal:
    """`price` rounded to the nearest multiple of `increment`, never below one tick."""
    ticks = (Decimal(price) / increment).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return (max(ticks, Decimal(1)) * increment).quantize(PRICE_PLACES)


def quote_around(
    symbol: str,
    increment: Decimal,
    last: Decimal,
    *,
    volume: int,
    timestamp: datetime,
    market_open: bool,
) -> Quote:
    """A quote with `last` inside a spread of a few ticks (about 1 basis point plus 0-2
    ticks), and round-lot sizes; the spread and sizes are seeded by (symbol, timestamp)."""
    stamp = int(timestamp.timestamp())
    base_ticks = max(1, int(last * Decimal("0.0001") / increment))
    spread_ticks = base_ticks + int(unit("spread", symbol, stamp) * 3)
    below = int(unit("bid-side", symbol, stamp) * (spread_ticks + 1))
    bid = (last - below * increment).quantize(PRICE_PLACES)
    if bid <= 0:
        bid = increment.quantize(PRICE_PLACES)
    return Quote(
        symbol=symbol,
        bid=bid,
        ask=(bid + spread_ticks * increment).quantize(PRICE_PLACES),
        last=last.quantize(PRICE_PLACES),
        bid_size=100 * (1 + int(unit("bid-size", symbol, stamp) * 20)),
        ask_size=100 * (1 + int(unit("ask-size", symbol, stamp) * 20)),
        volume=volume,
        timestamp=timestamp,
        market_open=market_open,
    )


@lru_cache(maxsize=8)
def _provider_for(path: str) -> MarketDataProvider:
    return import_string(path)()


def provider() -> MarketDataProvider:
    return _provider_for(settings.MARKET_DATA_PROVIDER)


# --- Test overrides ---------------------------------------------------------------

_overrides: dict[str, Decimal] = {}


def set_quote_override(symbol: str, last: Decimal | None) -> None:
    """Pin the last price of `symbol` in this process (None unpins). For tests."""
    symbol = symbol.strip().upper()
    if last is None:
        _overrides.pop(symbol, None)
    else:
        _overrides[symbol] = Decimal(last).quantize(PRICE_PLACES)


def clear_quote_overrides() -> None:
    _overrides.clear()


def _pinned(quote: Quote, increment: Decimal) -> Quote:
    last = _overrides.get(quote.symbol)
    if last is None:
        return quote
    return quote_around(
        quote.symbol,
        increment,
        last,
        volume=quote.volume,
        timestamp=quote.timestamp,
        market_open=quote.market_open,
    )


# --- Quotes -----------------------------------------------------------------------


def quote_cache():
    return caches[QUOTE_CACHE if QUOTE_CACHE in settings.CACHES else "default"]


def _normalize(symbol: str) -> str:
    return symbol.strip().upper()


def _cache_key(kind: str, symbol: str, bucket: int | str) -> str:
    return f"{CACHE_PREFIX}:{kind}:{symbol}:{bucket}"


def get_quotes(symbols: list[str], at: datetime | None = None) -> dict[str, Quote]:
    """Quotes of the known `symbols` at `at` (default now), keyed by upper-case symbol.
    One cache round trip, and one query for the symbols not cached."""
    at = _aware(at)
    wanted = list(dict.fromkeys(_normalize(s) for s in symbols if s and s.strip()))
    if not wanted:
        return {}
    bucket = int(at.timestamp()) // QUOTE_CACHE_SECONDS
    keys = {symbol: _cache_key("quote", symbol, bucket) for symbol in wanted}
    cached = quote_cache().get_many(list(keys.values()))
    found: dict[str, tuple[Quote, Decimal]] = {}
    for symbol, key in keys.items():
        if key in cached:
            found[symbol] = cached[key]
    missing = [symbol for symbol in wanted if symbol not in found]
    if missing:
        market, fresh = provider(), {}
        for security in Security.objects.filter(symbol__in=missing):
            entry = (market.quote(security, at), security.price_increment)
            found[security.symbol] = fresh[keys[security.symbol]] = entry
        if fresh:
            quote_cache().set_many(fresh, timeout=QUOTE_CACHE_SECONDS)
    return {symbol: _pinned(*found[symbol]) for symbol in wanted if symbol in found}


def get_quote(symbol: str, at: datetime | None = None) -> Quote | None:
    """The quote of `symbol` at `at` (default now), or None for an unknown symbol."""
    return get_quotes([symbol], at).get(_normalize(symbol))


def get_previous_close(symbol: str, at: datetime | None = None) -> Decimal | None:
    """The close of the session before the quote's session at `at` (default now): the
    stored one (DailyClose) if there is one, else the provider's."""
    return get_previous_closes([symbol], at).get(_normalize(symbol))


def get_previous_closes(symbols: list[str], at: datetime | None = None) -> dict[str, Decimal]:
    """Previous closes of the known `symbols` (see get_previous_close) in one cache round
    trip and at most two queries whatever their number: the stored closes (DailyClose)
    first, the provider for the ones not stored."""
    session, _ = quote_session(at)
    day = session.previous
    wanted = list(dict.fromkeys(_normalize(s) for s in symbols if s and s.strip()))
    if not wanted:
        return {}
    keys = {symbol: _cache_key("previous-close", symbol, day.isoformat()) for symbol in wanted}
    cached = quote_cache().get_many(list(keys.values()))
    found = {symbol: cached[key] for symbol, key in keys.items() if key in cached}
    missing = [symbol for symbol in wanted if symbol not in found]
    if missing:
        fresh = {}
        stored = dict(
            DailyClose.objects.filter(security__symbol__in=missing, date=day).values_list(
                "security__symbol", "close"
            )
        )
        not_stored = [symbol for symbol in missing if symbol not in stored]
        if not_stored:
            market = provider()
            for security in Security.objects.filter(symbol__in=not_stored):
                stored[security.symbol] = market.session_close(security, day)[0]
        for symbol, close in stored.items():
            found[symbol] = fresh[keys[symbol]] = close
        if fresh:
            quote_cache().set_many(fresh, timeout=60)
    return {symbol: found[symbol] for symbol in wanted if symbol in found}


def quotes_for_request(symbols: str | None) -> dict[str, Quote]:
    """Quotes for a comma-separated list of symbols typed by a user or an API client,
    refusing a missing list, more than `MAX_SYMBOLS_PER_REQUEST`, or unknown symbols
    (all named) with a ServiceError on the field "symbols"."""
    wanted = list(dict.fromkeys(_normalize(s) for s in (symbols or "").split(",") if s.strip()))
    if not wanted:
        raise _symbols_error("required", "Give one or more symbols, separated by commas.")
    if len(wanted) > MAX_SYMBOLS_PER_REQUEST:
        raise _symbols_error(
            "too_many_symbols",
            f"At most {MAX_SYMBOLS_PER_REQUEST} symbols at a time ({len(wanted)} given).",
        )
    quotes = get_quotes(wanted)
    unknown = [symbol for symbol in wanted if symbol not in quotes]
    if unknown:
        raise _symbols_error("unknown_symbol", f"Unknown symbol: {', '.join(unknown)}.")
    return quotes


def _symbols_error(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, {"symbols": FieldError(code, message)})


# --- Daily closes -----------------------------------------------------------------


def record_daily_closes(day: date | None = None) -> int:
    """Store the close and volume of every active security on session `day` (default:
    the last session that has closed); returns how many were stored. Nothing is stored
    for a day that is not a session or whose close has not come yet. Idempotent: a
    second run updates the same rows."""
    now = timezone.now()
    session = last_closed_session(now) if day is None else _session(day)
    if session is None or now < session.close:
        return 0
    market = provider()
    rows = []
    for security in Security.objects.filter(status=Security.Status.ACTIVE).iterator():
        close, volume = market.session_close(security, session.day)
        close = _overrides.get(security.symbol, close)
        rows.append(DailyClose(security=security, date=session.day, close=close, volume=volume))
    with transaction.atomic():
        DailyClose.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["security", "date"],
            update_fields=["close", "volume"],
        )
    return len(rows)


__all__ = [
    "Bar",
    "MarketDataProvider",
    "Quote",
    "Session",
    "Ticks",
    "bars_of_session",
    "clear_quote_overrides",
    "daily_bar",
    "get_previous_close",
    "get_previous_closes",
    "get_quote",
    "get_quotes",
    "is_market_open",
    "last_closed_session",
    "on_tick",
    "previous_close_time",
    "provider",
    "quote_around",
    "quote_session",
    "quotes_for_request",
    "record_daily_closes",
    "session_for",
    "session_ticks",
    "sessions_between",
    "set_quote_override",
]
