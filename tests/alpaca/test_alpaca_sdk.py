"""The official alpaca-py SDK, unchanged, against a live portal (url_override): every
endpoint it calls parses into its own models. On PostgreSQL, an order placed through
the SDK is filled over the real FIX session and shows up as a position."""

import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestQuoteRequest, StockLatestTradeRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.models import NonTradeActivity, TradeActivity
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetCalendarRequest,
    GetOrdersRequest,
    GetPortfolioHistoryRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
)
from django.db import connection, connections
from django.utils import timezone

from accounts.api_keys import keys as api_keys
from tests.factories import AccountFactory, fund
from trading.market.models import DailyClose
from trading.orders.models import Order, Position
from trading.reporting.models import AccountSnapshot
from trading.routing import gateway

from .test_alpaca_api import buy, fill

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


@pytest.fixture(autouse=True)
def _close_database_connections_after_each_request(monkeypatch):
    """The SDK keeps its HTTP connection alive, and with it the live server's thread
    serving it; with persistent database connections (DATABASE_CONN_MAX_AGE) that
    thread would hold one past the run and PostgreSQL could not drop the test database."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("50000.00"))
    return account


@pytest.fixture
def keys(account):
    key, secret = api_keys.create_api_key(account, None)
    return key, secret


@pytest.fixture
def trading(keys, live_server):
    key, secret = keys
    return TradingClient(key.key_id, secret, paper=True, url_override=live_server.url)


@pytest.fixture
def data(keys, live_server):
    key, secret = keys
    return StockHistoricalDataClient(key.key_id, secret, url_override=live_server.url)


def test_account_positions_and_close(trading, account, acme):
    fill(buy(account, 10), price="90.00")
    got = trading.get_account()
    assert got.account_number == account.account_number
    assert got.status.value == "ACTIVE" and got.cash == "49099"
    [position] = trading.get_all_positions()
    assert (position.symbol, position.qty, position.avg_entry_price) == ("ACME", "10", "90")
    assert position.asset_id == acme.uuid and position.market_value == "1000"
    assert trading.get_open_position("ACME").qty == "10"
    assert trading.get_open_position(acme.uuid).symbol == "ACME"
    order = trading.close_position("ACME", ClosePositionRequest(qty="4"))
    assert (order.side, order.qty, order.type.value) == (OrderSide.SELL, "4", "market")
    results = trading.close_all_positions()
    assert [(r.symbol, r.status) for r in results] == [("ACME", 200)]
    assert Order.objects.filter(account=account, side="sell").count() == 2
    with pytest.raises(APIError) as missing:
        trading.get_open_position("ZZZZ")
    assert missing.value.status_code == 404 and missing.value.code == 40410000


def test_orders_round_trip(trading, account, acme):
    request = LimitOrderRequest(
        symbol="ACME",
        qty=10,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.GTC,
        limit_price=99.5,
        client_order_id="sdk-1",
    )
    order = trading.submit_order(request)
    assert order.status == OrderStatus.PENDING_NEW and order.client_order_id == "sdk-1"
    assert order.limit_price == "99.5" and isinstance(order.id, uuid.UUID)
    assert trading.submit_order(request).id == order.id  # a retry makes no second order
    assert Order.objects.filter(account=account).count() == 1
    assert trading.get_order_by_id(order.id).symbol == "ACME"
    assert trading.get_order_by_client_id("sdk-1").id == order.id
    listed = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, symbols=["ACME"]))
    assert [o.id for o in listed] == [order.id]
    new = trading.replace_order_by_id(order.id, ReplaceOrderRequest(qty=12, limit_price=99.0))
    assert new.replaces == order.id and new.qty == "12"
    assert trading.get_order_by_id(order.id).status == OrderStatus.PENDING_REPLACE
    trading.cancel_order_by_id(new.id)
    assert trading.get_order_by_id(new.id).status == OrderStatus.PENDING_CANCEL
    second = trading.submit_order(
        LimitOrderRequest(
            symbol="ACME",
            qty=1,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            limit_price=98,
        )
    )
    [canceled] = trading.cancel_orders()
    assert canceled.id == second.id and canceled.status == 200
    assert len(trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))) == 3


def test_sdk_sees_alpaca_errors(trading, acme):
    with pytest.raises(APIError) as refused:
        trading.submit_order(
            MarketOrderRequest(
                symbol="ACME", qty=100_000, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            )
        )
    assert refused.value.status_code == 403 and refused.value.code == 40310000
    with pytest.raises(APIError) as invalid:
        trading.submit_order(
            MarketOrderRequest(
                symbol="NOPE", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            )
        )
    assert invalid.value.status_code == 422 and "symbol" in invalid.value.message
    with pytest.raises(APIError) as missing:
        trading.get_order_by_id(uuid.uuid4())
    assert missing.value.status_code == 404


def test_revoked_and_other_accounts_key(trading, keys, live_server, account, acme):
    other = AccountFactory()
    fund(other, D("1000.00"))
    theirs = buy(other, 2)
    with pytest.raises(APIError) as hidden:
        trading.get_order_by_id(theirs.uuid)
    assert hidden.value.status_code == 404
    with pytest.raises(APIError):
        trading.cancel_order_by_id(theirs.uuid)
    theirs.refresh_from_db()
    assert theirs.status == "pending_new"
    api_keys.revoke_api_key(keys[0], None)
    with pytest.raises(APIError) as revoked:
        trading.get_account()
    assert revoked.value.status_code == 401 and revoked.value.code == 40110000


def test_assets_clock_calendar_history_activities(trading, account, acme):
    assets = trading.get_all_assets()
    assert [a.symbol for a in assets] == ["ACME"] and assets[0].id == acme.uuid
    assert trading.get_asset("ACME").exchange.value == "NYSE"
    clock = trading.get_clock()
    assert clock.next_open > clock.timestamp or clock.is_open
    days = trading.get_calendar(
        GetCalendarRequest(start=date(2025, 12, 22), end=date(2025, 12, 26))
    )
    assert [d.date for d in days] == [
        date(2025, 12, 22),
        date(2025, 12, 23),
        date(2025, 12, 24),
        date(2025, 12, 26),
    ]
    assert days[2].close == datetime(2025, 12, 24, 13, 0)  # Christmas Eve closes early
    today = timezone.localdate()
    for back, equity in ((2, "50000.00"), (1, "50500.00")):
        AccountSnapshot.objects.create(
            account=account,
            date=today - timedelta(days=back),
            cash=D(equity),
            market_value=D(0),
            equity=D(equity),
            net_transfers=D("50000.00"),
        )
    history = trading.get_portfolio_history(GetPortfolioHistoryRequest(period="1W", timeframe="1D"))
    # The last point is today's, at the account's current equity.
    assert history.equity == [50000.0, 50500.0, 50000.0]
    assert history.profit_loss == [0.0, 500.0, 0.0]
    fill(buy(account, 3))
    raw = trading.get("/account/activities")  # alpaca-py has no activities call: its models
    parsed = [
        TradeActivity(**a) if a["activity_type"] == "FILL" else NonTradeActivity(**a) for a in raw
    ]
    assert [type(a).__name__ for a in parsed] == ["TradeActivity", "NonTradeActivity"]
    assert parsed[0].order_id and parsed[1].net_amount == 50000.0


def test_market_data_client(data, acme, market):
    market.last["ACME"] = D("42.00")
    quotes = data.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols=["ACME"]))
    assert quotes["ACME"].ask_price == 42.01 and quotes["ACME"].bid_price == 41.99
    trades = data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="ACME"))
    assert trades["ACME"].price == 42.0
    for day, close in ((date(2025, 11, 24), "40.00"), (date(2025, 11, 25), "41.00")):
        DailyClose.objects.create(security=acme, date=day, close=D(close), volume=500)
    bars = data.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="ACME",
            timeframe=TimeFrame.Day,
            start=datetime(2025, 11, 24),
            end=datetime(2025, 11, 26),
        )
    )
    assert [(b.open, b.close, b.volume) for b in bars["ACME"]] == [
        (40.0, 40.0, 500.0),
        (40.0, 41.0, 500.0),
    ]
    assert json.dumps(bars.dict(), default=str)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_submit_fill_and_position_over_fix(pair, trading, account, acme):
    """Submit through alpaca-py, fill over the real FIX session (gateway + simulator),
    and see the position through alpaca-py."""
    pair.start_engine()
    pair.start_gateway()
    order = trading.submit_order(
        MarketOrderRequest(symbol="ACME", qty=7, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )

    def filled():
        return trading.get_order_by_id(order.id).status == OrderStatus.FILLED

    assert gateway.wait_for(filled, 15), trading.get_order_by_id(order.id).status
    [position] = trading.get_all_positions()
    assert (position.symbol, position.qty, position.avg_entry_price) == ("ACME", "7", "100.01")
    assert Position.objects.get(account=account).qty == 7
    done = trading.get_order_by_id(order.id)
    assert done.filled_qty == "7" and done.filled_avg_price == "100.01" and done.filled_at
