"""A market data provider for tests that run the routing processes as subprocesses
(`MARKET_DATA_PROVIDER=tests.fixed_market.AlwaysOpenMarket`): the market is open
whatever the clock says, and every security trades a cent either side of its
reference price, 100 shares a side."""

from datetime import datetime
from decimal import Decimal

from trading.market.market_data import MarketDataProvider, Quote
from trading.market.models import Security

CENT = Decimal("0.01")


class AlwaysOpenMarket(MarketDataProvider):
    def quote(self, security: Security, at: datetime) -> Quote:
        last = security.reference_price
        return Quote(
            symbol=security.symbol,
            bid=last - CENT,
            ask=last + CENT,
            last=last,
            bid_size=100,
            ask_size=100,
            volume=1000,
            timestamp=at,
            market_open=True,
        )

    def session_close(self, security: Security, day) -> tuple[Decimal, int]:
        return security.reference_price, 1000
