"""alpaca-py, unchanged, against a live portal for the endpoints of issue 13: account
configurations, watchlists, and Alpaca's errors; every answer parses into the SDK's own
models."""

from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import DTBPCheck, OrderSide, TimeInForce, TradeConfirmationEmail
from alpaca.trading.requests import (
    CreateWatchlistRequest,
    MarketOrderRequest,
    UpdateWatchlistRequest,
)
from django.db import connections

from accounts.api_keys import keys as api_keys
from tests.factories import AccountFactory, fund
from trading.market.models import Security

D = Decimal


@pytest.fixture(autouse=True)
def _close_database_connections_after_each_request(monkeypatch):
    """See tests/alpaca/test_alpaca_sdk.py: the live server's threads keep no connection."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("50000.00"))
    return account


@pytest.fixture
def keys(account):
    return api_keys.create_api_key(account, None)


@pytest.fixture
def trading(keys, live_server):
    key, secret = keys
    return TradingClient(key.key_id, secret, paper=True, url_override=live_server.url)


@pytest.fixture
def data(keys, live_server):
    key, secret = keys
    return StockHistoricalDataClient(key.key_id, secret, url_override=live_server.url)


pytestmark = pytest.mark.django_db(transaction=True)


def test_account_configurations(trading, acme):
    config = trading.get_account_configurations()
    assert (config.no_shorting, config.fractional_trading, config.suspend_trade) == (
        True,
        False,
        False,
    )
    assert config.trade_confirm_email == TradeConfirmationEmail.ALL
    config.suspend_trade = True
    config.dtbp_check = DTBPCheck.BOTH
    changed = trading.set_account_configurations(config)  # sends the whole model back
    assert changed.suspend_trade and changed.dtbp_check == DTBPCheck.BOTH
    order = MarketOrderRequest(
        symbol="ACME", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
    )
    with pytest.raises(APIError) as refused:
        trading.submit_order(order)
    assert refused.value.status_code == 403 and refused.value.code == 40310000
    config.suspend_trade = False
    trading.set_account_configurations(config)
    assert trading.submit_order(order).symbol == "ACME"
    config.fractional_trading = True
    with pytest.raises(APIError) as unsupported:
        trading.set_account_configurations(config)
    assert unsupported.value.status_code == 422 and unsupported.value.code == 42210000


def test_watchlists(trading, acme):
    for symbol in ("SPY", "TLT"):
        Security.objects.create(
            symbol=symbol, name=symbol, exchange="ARCA", reference_price=D("100.00")
        )
    created = trading.create_watchlist(CreateWatchlistRequest(name="Core", symbols=["SPY", "ACME"]))
    assert [a.symbol for a in created.assets] == ["SPY", "ACME"]
    assert [w.id for w in trading.get_watchlists()] == [created.id]
    assert trading.get_watchlist_by_id(created.id).name == "Core"
    added = trading.add_asset_to_watchlist_by_id(created.id, "TLT")
    assert [a.symbol for a in added.assets] == ["SPY", "ACME", "TLT"]
    removed = trading.remove_asset_from_watchlist_by_id(created.id, "ACME")
    assert [a.symbol for a in removed.assets] == ["SPY", "TLT"]
    updated = trading.update_watchlist_by_id(created.id, UpdateWatchlistRequest(name="Bonds"))
    assert updated.name == "Bonds" and len(updated.assets) == 2
    with pytest.raises(APIError) as taken:
        trading.create_watchlist(CreateWatchlistRequest(name="Bonds", symbols=[]))
    assert taken.value.status_code == 422
    with pytest.raises(APIError) as unknown:
        trading.add_asset_to_watchlist_by_id(created.id, "NOPE")
    assert unknown.value.status_code == 404 and unknown.value.code == 40410000
    trading.delete_watchlist_by_id(created.id)
    assert trading.get_watchlists() == []
    with pytest.raises(APIError) as gone:
        trading.get_watchlist_by_id(created.id)
    assert gone.value.code == 40410000


def test_market_data_through_the_sdk(data, trading, monkeypatch):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from alpaca.data.requests import (
        StockBarsRequest,
        StockLatestBarRequest,
        StockQuotesRequest,
        StockSnapshotRequest,
        StockTradesRequest,
    )
    from alpaca.data.timeframe import TimeFrame, TimeFrameUnit
    from alpaca.trading.requests import GetPortfolioHistoryRequest

    from trading.alpaca import data as data_module

    ny = ZoneInfo("America/New_York")
    monkeypatch.setattr(data_module, "now", lambda: datetime(2026, 11, 24, 12, 0, 7, tzinfo=ny))
    Security.objects.create(
        symbol="SPY", name="SPDR S&P 500", exchange="ARCA", reference_price=D("450.00"), is_etf=True
    )
    start, end = datetime(2026, 11, 24, 9, 0, tzinfo=ny), datetime(2026, 11, 24, 12, 0, tzinfo=ny)
    counts = {}
    for frame in (
        TimeFrame.Minute,
        TimeFrame(5, TimeFrameUnit.Minute),
        TimeFrame(15, TimeFrameUnit.Minute),
        TimeFrame.Hour,
    ):
        got = data.get_stock_bars(
            StockBarsRequest(symbol_or_symbols="SPY", timeframe=frame, start=start, end=end)
        )
        counts[str(frame.value)] = len(got["SPY"])
    assert counts == {"1Min": 151, "5Min": 31, "15Min": 11, "1Hour": 4}
    # alpaca-py follows next_page_token itself: 151 minute bars in pages of 40.
    paged = data.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="SPY", timeframe=TimeFrame.Minute, start=start, end=end, limit=151
        )
    )
    assert len(paged["SPY"]) == 151
    daily = data.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="SPY",
            timeframe=TimeFrame.Day,
            start=datetime(2026, 11, 24, tzinfo=ny),
        )
    )
    [today] = daily["SPY"]
    latest = data.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols="SPY"))["SPY"]
    assert latest.close == today.close and latest.timestamp.hour == 17
    snapshot = data.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols=["SPY"]))["SPY"]
    assert snapshot.daily_bar.close == today.close and snapshot.previous_daily_bar.close > 0
    assert snapshot.minute_bar.timestamp == latest.timestamp and snapshot.latest_quote.ask_price > 0
    quotes = data.get_stock_quotes(
        StockQuotesRequest(symbol_or_symbols="SPY", start=start, end=end, limit=50)
    )
    assert len(quotes["SPY"]) == 50 and quotes["SPY"][0].bid_price < quotes["SPY"][0].ask_price
    trades = data.get_stock_trades(
        StockTradesRequest(symbol_or_symbols="SPY", start=start, end=end)
    )
    assert sum(t.size for t in trades["SPY"]) == today.volume
    history = trading.get_portfolio_history(
        GetPortfolioHistoryRequest(period="1W", timeframe="15Min")
    )
    assert history.timeframe == "15Min" and len(history.timestamp) == len(history.equity) > 0
    asset = trading.get_asset("SPY")
    assert (asset.exchange.value, asset.asset_class.value, asset.fractionable) == (
        "ARCA",
        "us_equity",
        False,
    )
