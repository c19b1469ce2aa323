"""Bracket orders and trailing stops through the official alpaca-py SDK, unchanged,
against a live portal and the real FIX pair (PostgreSQL): the SDK's own models parse the
legs, `held` and the trailing stop's fields."""

from decimal import Decimal

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    GetOrderByIdRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)
from django.db import connection, connections

from accounts.api_keys import keys as api_keys
from tests.factories import AccountFactory, fund
from trading.routing import gateway

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


@pytest.fixture(autouse=True)
def _close_database_connections_after_each_request(monkeypatch):
    """As in test_alpaca_sdk.py: the live server's threads keep no connection open."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, Decimal("50000.00"))
    return account


@pytest.fixture
def trading(account, live_server):
    key, secret = api_keys.create_api_key(account, None)
    return TradingClient(key.key_id, secret, paper=True, url_override=live_server.url)


def wait_status(trading, order_id, status):
    def check():
        return trading.get_order_by_id(order_id).status == status

    assert gateway.wait_for(check, 15), trading.get_order_by_id(order_id).status


def test_bracket_through_alpaca_py_over_fix(pair, trading, acme):
    pair.start_engine()
    held = trading.submit_order(
        LimitOrderRequest(
            symbol="ACME",
            qty=5,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.GTC,
            limit_price=95.5,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=105),
            stop_loss=StopLossRequest(stop_price=94),
        )
    )
    assert held.order_class == OrderClass.BRACKET
    assert [leg.status for leg in held.legs] == [OrderStatus.HELD, OrderStatus.HELD]
    replaced = trading.replace_order_by_id(held.legs[1].id, ReplaceOrderRequest(stop_price=93))
    assert replaced.id == held.legs[1].id and replaced.stop_price == "93"
    trading.cancel_order_by_id(held.id)  # sent when the gateway starts

    order = trading.submit_order(
        MarketOrderRequest(
            symbol="ACME",
            qty=10,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=105),
            stop_loss=StopLossRequest(stop_price=95, limit_price=94.5),
        )
    )
    pair.start_gateway()
    wait_status(trading, order.id, OrderStatus.FILLED)
    for leg in order.legs:
        wait_status(trading, leg.id, OrderStatus.NEW)
    wait_status(trading, held.id, OrderStatus.CANCELED)
    nested = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, nested=True))
    assert [o.id for o in nested] == [order.id, held.id]
    assert [leg.order_type for leg in nested[0].legs] == ["limit", "stop_limit"]
    assert {leg.status for leg in nested[1].legs} == {OrderStatus.CANCELED}
    one = trading.get_order_by_id(order.id, GetOrderByIdRequest(nested=True))
    assert len(one.legs) == 2
    flat = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert len(flat) == 6 and all(o.legs is None for o in flat)

    trading.cancel_order_by_id(order.legs[0].id)  # the take-profit: the stop-loss follows
    wait_status(trading, order.legs[0].id, OrderStatus.CANCELED)
    wait_status(trading, order.legs[1].id, OrderStatus.CANCELED)
    assert trading.get_open_position("ACME").qty_available == "10"


def test_trailing_stop_through_alpaca_py(trading, account, acme):
    order = trading.submit_order(
        TrailingStopOrderRequest(
            symbol="ACME", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, trail_percent=2
        )
    )
    assert (order.order_type, order.status, order.hwm, order.stop_price) == (
        "trailing_stop",
        OrderStatus.NEW,
        "100",
        "102",
    )
    assert order.trail_percent == "2" and order.trail_price is None
    changed = trading.replace_order_by_id(order.id, ReplaceOrderRequest(trail=1))
    assert (changed.id, changed.trail_percent, changed.stop_price) == (order.id, "1", "101")
    trading.cancel_order_by_id(order.id)
    assert trading.get_order_by_id(order.id).status == OrderStatus.CANCELED
