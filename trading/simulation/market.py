"""The simulated market: the default quote provider for the embedded run, demos and
tests, shared by the portal and the routing engine simulator (see `SimulatedMarket`)."""

import hashlib
import math
import random
from array import array
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from statistics import NormalDist

from trading.market.market_data import (
    MarketDataProvider,
    Quote,
    Session,
    Ticks,
    on_tick,
    quote_around,
    quote_session,
    unit,
)
from trading.market.models import Security


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


_NORMAL = NormalDist()


class SimulatedMarket(MarketDataProvider):
    """A seeded random walk per symbol around its reference price.

    log(price / reference) on a session is a Brownian bridge from the previous
    session's close to this session's close, in steps of `STEP_SECONDS`. A session's
    close is `reference * exp(A)`, where A is a moving sum of `ANCHOR_DAYS` daily
    gaussian shocks seeded by (symbol, date): stationary (a standard deviation of 10%
    around the reference), moving about 1.8% a day, and computed from the date alone, with no
    history to replay. The intraday path is seeded by (symbol, day), computed once per
    process and day (about 0.5 ms) and then read by index. Volume accumulates through
    the day along a U-shaped curve to a seeded daily total.
    """

    STEP_SECONDS = 15  # a multiple of QUOTE_CACHE_SECONDS, so a cached quote is exact
    ANCHOR_DAYS = 64
    ANCHOR_SD = 0.10  # of log(close / reference), long-run
    INTRADAY_SD = 0.012  # of the intraday walk over a whole session, before pinning

    def quote(self, security: Security, at: datetime) -> Quote:
        session, trading = quote_session(at)
        symbol, reference = security.symbol, float(security.reference_price)
        if not trading:
            close, volume = self.session_close(security, session.day)
            return quote_around(
                symbol,
                security.price_increment,
                close,
                volume=volume,
                timestamp=session.close,
                market_open=False,
            )
        steps = self._steps(session)
        step = min(int((at - session.open).total_seconds()) // self.STEP_SECONDS, steps - 1)
        start, end = _anchor(symbol, session.previous), _anchor(symbol, session.day)
        bridge = _intraday_bridge(symbol, session.day, steps, self.INTRADAY_SD)
        log_offset = start + (end - start) * step / steps + bridge[step]
        price = on_tick(reference * math.exp(log_offset), security.price_increment)
        volume = _cumulative_volume(_daily_volume(symbol, session.day), step / steps)
        return quote_around(
            symbol,
            security.price_increment,
            price,
            volume=volume,
            timestamp=session.open + timedelta(seconds=step * self.STEP_SECONDS),
            market_open=True,
        )

    def session_close(self, security: Security, day: date) -> tuple[Decimal, int]:
        reference = float(security.reference_price)
        close = on_tick(
            reference * math.exp(_anchor(security.symbol, day)), security.price_increment
        )
        return close, _daily_volume(security.symbol, day)

    def ticks(self, security: Security, session: Session) -> Ticks:
        """The whole session's path at once, the same prices and volumes `quote` gives
        at each step, then the close."""
        symbol, reference = security.symbol, float(security.reference_price)
        increment = security.price_increment
        steps = self._steps(session)
        start, end = _anchor(symbol, session.previous), _anchor(symbol, session.day)
        bridge = _intraday_bridge(symbol, session.day, steps, self.INTRADAY_SD)
        total = _daily_volume(symbol, session.day)
        prices, volumes = array("d"), array("q")
        for step in range(steps + 1):
            log_offset = start + (end - start) * step / steps + bridge[step]
            prices.append(_on_tick_float(reference * math.exp(log_offset), increment))
            volumes.append(_cumulative_volume(total, step / steps))
        volumes[-1] = total  # the close: the day's volume, as session_close says
        return Ticks(session, self.STEP_SECONDS, prices, volumes)

    def _steps(self, session: Session) -> int:
        return max(1, int((session.close - session.open).total_seconds()) // self.STEP_SECONDS)


@lru_cache(maxsize=65_536)
def _anchor(symbol: str, day: date) -> float:
    """log(close / reference) of `symbol` on `day`: a moving sum of daily shocks."""
    ordinal = day.toordinal()
    shocks = sum(
        _NORMAL.inv_cdf(unit("anchor", symbol, ordinal - lag))
        for lag in range(SimulatedMarket.ANCHOR_DAYS)
    )
    return shocks * SimulatedMarket.ANCHOR_SD / math.sqrt(SimulatedMarket.ANCHOR_DAYS)


@lru_cache(maxsize=1024)  # 12 kB each: today's and yesterday's for ~500 symbols
def _intraday_bridge(symbol: str, day: date, steps: int, session_sd: float) -> array:
    """A random walk of `steps` seeded steps pinned to 0 at both ends (index 0..steps)."""
    rng = random.Random(_seed("intraday", symbol, day.isoformat()))  # noqa: S311
    step_sd = session_sd / math.sqrt(steps)
    walk = array("d", [0.0])
    position = 0.0
    for _ in range(steps):
        position += _NORMAL.inv_cdf(max(rng.random(), 1e-12)) * step_sd
        walk.append(position)
    return array("d", (walk[k] - position * k / steps for k in range(steps + 1)))


def _on_tick_float(price: float, increment: Decimal) -> float:
    """`float(on_tick(price, increment))`, about ten times faster: the float quotient
    decides unless it is within a hair of half a tick, where the exact Decimal does."""
    step = float(increment)
    quotient = price / step
    if abs(quotient - math.floor(quotient) - 0.5) < 1e-6:
        return float(on_tick(price, increment))
    return round(max(round(quotient), 1) * step, 4)


def _daily_volume(symbol: str, day: date) -> int:
    typical = 10 ** (5.5 + 1.5 * unit("volume", symbol))  # 300 thousand to 10 million
    today = typical * math.exp(0.3 * _NORMAL.inv_cdf(unit("volume", symbol, day.isoformat())))
    return int(today) // 100 * 100


def _cumulative_volume(total: int, elapsed: float) -> int:
    """Shares traded by `elapsed` (0..1) of the session: busy at the open and the close."""
    shape = (elapsed + ((2 * elapsed - 1) ** 3 + 1) / 3) / (5 / 3)
    return int(total * shape) // 100 * 100
