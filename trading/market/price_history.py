"""Price series for a symbol's chart: the intraday path of the current (or last) session,
and daily closes.

Both come through the market data provider interface (whatever
`MARKET_DATA_PROVIDER` names: the simulated market by default), so the chart shows what
the quotes showed and what fills were priced at. Daily closes are the stored
`DailyClose`s where there are some, the provider's for the sessions not stored.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from django.utils import timezone

from trading.market import market_data
from trading.market.calendar import nyse
from trading.market.models import DailyClose, Security

INTRADAY_STEP = timedelta(minutes=5)
RANGES = {"1D": None, "1M": 31, "3M": 92, "1Y": 366, "5Y": 5 * 366}


@dataclass(frozen=True)
class Point:
    at: datetime | date
    price: Decimal


@dataclass(frozen=True)
class Series:
    range: str
    points: list[Point]
    intraday: bool
    session_day: date | None = None  # the session an intraday series shows
    market_open: bool = False

    @property
    def first(self) -> Decimal | None:
        return self.points[0].price if self.points else None

    @property
    def last(self) -> Decimal | None:
        return self.points[-1].price if self.points else None

    @property
    def change(self) -> Decimal | None:
        if len(self.points) < 2:
            return None
        return self.points[-1].price - self.points[0].price

    @property
    def change_pct(self) -> Decimal | None:
        change, first = self.change, self.first
        if change is None or not first:
            return None
        return (change / first * 100).quantize(Decimal("0.01"))

    @property
    def low(self) -> Decimal | None:
        return min((p.price for p in self.points), default=None)

    @property
    def high(self) -> Decimal | None:
        return max((p.price for p in self.points), default=None)


def intraday(security: Security, at: datetime | None = None) -> Series:
    """Every `INTRADAY_STEP` of the session the quote at `at` belongs to, from the
    previous close (where the session opens) to now, or to the close once it has closed."""
    at = at or timezone.now()
    session, trading = market_data.quote_session(at)
    provider = market_data.provider()
    previous = market_data.get_previous_close(security.symbol, at)
    points = [Point(session.open, previous)] if previous is not None else []
    end = at if trading else session.close
    moment = session.open
    while moment < end:
        points.append(Point(moment, provider.quote(security, moment).last))
        moment += INTRADAY_STEP
    if trading:
        live = market_data.get_quote(security.symbol)
        if live is not None:
            points.append(Point(at, live.last))
    else:  # the session ended at its close: the last point is the closing price
        points.append(Point(session.close, provider.session_close(security, session.day)[0]))
    return Series("1D", points, True, session.day, trading)


def daily(security: Security, days: int, at: datetime | None = None) -> Series:
    """The close of each NYSE session of the last `days` calendar days that has closed,
    and today's live price as the last point while the market is open."""
    at = at or timezone.now()
    last_closed = market_data.last_closed_session(at)
    calendar = nyse()
    start = max(last_closed.day - timedelta(days=days), calendar.first_session.date())
    sessions = [
        stamp.date()
        for stamp in calendar.sessions_in_range(pd.Timestamp(start), pd.Timestamp(last_closed.day))
    ]
    stored = dict(
        DailyClose.objects.filter(security=security, date__gte=start).values_list("date", "close")
    )
    provider = market_data.provider()
    points = [
        Point(day, stored[day] if day in stored else provider.session_close(security, day)[0])
        for day in sessions
    ]
    live = market_data.get_quote(security.symbol)
    if live is not None and live.market_open:
        points.append(Point(market_data.quote_session(at)[0].day, live.last))
    label = next((k for k, v in RANGES.items() if v == days), f"{days}D")
    return Series(label, points, False, market_open=bool(live and live.market_open))


def price_series(security: Security, range_: str, at: datetime | None = None) -> Series:
    """The series for a range name of `RANGES` (an unknown one is "1D")."""
    days = RANGES.get(range_)
    return daily(security, days, at) if days else intraday(security, at)
