"""close_position / close_all_positions with cancel_orders: the open orders' cancels are
confirmed by the routing engine before the closing order is sized, so the whole
position is sold (issue 13: with 3 shares and two open 1-share sells, it sold 1)."""

from decimal import Decimal

import pytest
import requests
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from django.db import connection, connections

from accounts.api_keys import keys as api_keys
from tests.factories import AccountFactory, fund
from trading.orders import entry
from trading.orders.executions import ExecutionReport, apply_execution_report
from trading.orders.models import Order, Position
from trading.routing import gateway

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


@pytest.fixture(autouse=True)
def _close_database_connections_after_each_request(monkeypatch):
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("50000.00"))
    return account


@pytest.fixture
def trading(account, live_server):
    key, secret = api_keys.create_api_key(account, None)
    return TradingClient(key.key_id, secret, paper=True, url_override=live_server.url)


def _sell(trading, qty=1, price=120):
    return trading.submit_order(
        LimitOrderRequest(
            symbol="ACME",
            qty=qty,
            side=OrderSide.SELL,
            time_in_force=TimeInForce.GTC,
            limit_price=price,
        )
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_close_all_with_cancel_orders_sells_the_whole_position(pair, trading, account, acme):
    pair.start_engine()
    pair.start_gateway()
    bought = trading.submit_order(
        MarketOrderRequest(symbol="ACME", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert gateway.wait_for(
        lambda: trading.get_order_by_id(bought.id).status == OrderStatus.FILLED, 15
    )
    resting = [_sell(trading), _sell(trading)]
    assert gateway.wait_for(
        lambda: all(trading.get_order_by_id(o.id).status == OrderStatus.NEW for o in resting), 15
    ), [trading.get_order_by_id(o.id).status for o in resting]

    [result] = trading.close_all_positions(cancel_orders=True)
    assert result.symbol == "ACME" and result.status == 200, result
    closing = Order.objects.get(uuid=result.body.id)
    assert (closing.side, closing.qty, closing.order_type) == ("sell", 3, "market")
    for order in resting:
        assert trading.get_order_by_id(order.id).status == OrderStatus.CANCELED
    assert gateway.wait_for(lambda: Position.objects.get(account=account).qty == 0, 15)
    assert trading.get_all_positions() == []


def test_unconfirmed_cancels_are_named_and_nothing_is_sold(
    settings, live_server, trading, account, acme
):
    """No routing engine answers: after the bounded wait, a clear error names the orders
    still open, and no closing order is placed."""
    settings.CLOSE_POSITION_CANCEL_WAIT_SECONDS = 0.3
    order, _ = entry.place_order(
        account, None, symbol="ACME", side="buy", order_type="market", time_in_force="day", qty=3
    )
    apply_execution_report(
        ExecutionReport(
            exec_id="F1",
            cl_ord_id=order.cl_ord_id,
            exec_type="2",
            ord_status="2",
            last_qty=3,
            last_px=D("100.00"),
            cum_qty=3,
        )
    )
    first, second = _sell(trading), _sell(trading)

    [result] = trading.close_all_positions(cancel_orders=True)
    assert result.symbol == "ACME" and result.status == 422
    assert result.body.code == 42210000 and result.body.symbol == "ACME"
    assert str(first.id) in result.body.message and str(second.id) in result.body.message
    assert "pending_cancel" in result.body.message
    assert (result.body.existing_qty, result.body.held_for_orders) == (3, 2)
    assert not Order.objects.filter(account=account, side="sell", order_type="market").exists()

    # One position, by its own endpoint: the same refusal, as an error.
    response = requests.delete(
        f"{live_server.url}/v2/positions/ACME",
        params={"cancel_orders": "true"},
        headers={"APCA-API-KEY-ID": trading._api_key, "APCA-API-SECRET-KEY": trading._secret_key},
        timeout=30,
    )
    assert response.status_code == 422 and response.json()["code"] == 42210000
    assert set(response.json()["open_orders"]) == {str(first.id), str(second.id)}
    assert "still open" in response.json()["message"]
    # Without cancel_orders it sells what the open sells do not tie up, as before.
    assert trading.close_position("ACME").qty == "1"
