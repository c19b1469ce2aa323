"""Orders over a real FIX 4.2 session on loopback: the routing gateway (initiator) and
the routing engine simulator (acceptor), each in its own thread of the test process,
against the pinned simulated market."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.money import ledger
from tests.conftest import free_port
from tests.factories import AccountFactory, fund
from trading.market.models import Security
from trading.orders import entry
from trading.orders.models import Execution, Order, OrderStatus, OutboxMessage, Position
from trading.routing import gateway
from trading.simulation import engine

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Three threads write at once: SQLite's in-memory test database locks whole tables.
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]
D = Decimal


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("50000.00"))
    return account


def place(account, **kwargs):
    values = {
        "symbol": "ACME",
        "side": "buy",
        "order_type": "market",
        "time_in_force": "day",
        "qty": 10,
    } | kwargs
    return entry.place_order(account, account.holders.get(), **values)[0]


def settled(order, *statuses, timeout=10):
    def check():
        order.refresh_from_db()
        return order.status in statuses

    assert gateway.wait_for(check, timeout), f"order is {order.status}, not {statuses}"
    return order


def test_market_buy_then_sell_round_trip(pair, account, acme):
    pair.start_engine()
    pair.start_gateway()
    buy = settled(place(account, qty=10), OrderStatus.FILLED)
    assert buy.filled_avg_price == D("100.01")  # the ask
    assert Position.objects.get(account=account).qty == 10
    sell = settled(place(account, side="sell", qty=10), OrderStatus.FILLED)
    assert sell.filled_avg_price == D("99.99")  # the bid
    position = Position.objects.get(account=account)
    assert position.qty == 0 and position.realized_pnl == D("-0.20")
    b = ledger.balances(account)
    assert b.holds == 0
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
    assert ledger.verify_balances() == []


def test_resting_limit_cancel_and_replace(pair, account, acme, market):
    pair.start_engine()
    pair.start_gateway()
    resting = settled(
        place(account, order_type="limit", limit_price="95.00", qty=10, time_in_force="gtc"),
        OrderStatus.NEW,
    )
    entry.cancel_order(resting, None)
    settled(resting, OrderStatus.CANCELED)
    assert ledger.balances(account).holds == 0

    second = settled(
        place(account, order_type="limit", limit_price="95.00", qty=10), OrderStatus.NEW
    )
    new = entry.replace_order(second, None, limit_price="100.50")  # now marketable
    settled(new, OrderStatus.FILLED)
    settled(second, OrderStatus.REPLACED)
    assert new.filled_avg_price == D("100.01")
    market.last["ACME"] = D("94.00")  # a resting limit fills when the price crosses
    third = settled(
        place(account, order_type="limit", limit_price="95.00", qty=5), OrderStatus.FILLED
    )
    assert third.filled_avg_price == D("94.01")


def test_ioc_partial_and_fok_kill(pair, account, acme):
    pair.start_engine()
    pair.start_gateway()
    ioc = settled(place(account, qty=250, time_in_force="ioc"), OrderStatus.CANCELED)
    assert ioc.filled_qty == 100  # the quoted size; the rest canceled
    fok = settled(place(account, qty=250, time_in_force="fok"), OrderStatus.CANCELED)
    assert fok.filled_qty == 0
    large = settled(place(account, qty=250), OrderStatus.FILLED)  # fills in parts
    assert large.executions.count() == 3
    assert ledger.balances(account).holds == 0


def test_stop_triggers_and_engine_rejects_a_halted_symbol(pair, account, acme):
    pair.start_engine()
    pair.start_gateway()
    stop = settled(place(account, order_type="stop", stop_price="99.00"), OrderStatus.FILLED)
    assert stop.filled_qty == 10
    order = place(account)
    Security.objects.filter(pk=acme.pk).update(halted=True)  # halted after it was accepted
    rejected = settled(order, OrderStatus.FILLED, OrderStatus.REJECTED)
    if rejected.status == OrderStatus.REJECTED:
        assert rejected.reject_reason == "Symbol halted"
    assert ledger.balances(account).holds == 0


def test_cancel_that_loses_the_race_to_a_fill(pair, account, acme):
    pair.start_engine()
    order = place(account)
    entry.cancel_order(order, None)  # queued behind the order: the fill wins
    pair.start_gateway()
    order = settled(order, OrderStatus.FILLED)
    assert order.filled_qty == 10
    assert ledger.balances(account).holds == 0


def test_orders_wait_while_engine_is_down_then_go(pair, account, acme):
    pair.start_gateway(wait=False, port=free_port())  # nothing listens there
    order = place(account)
    assert not pair.gateway_app.logged_on.wait(1.5)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_NEW
    assert OutboxMessage.objects.get(order=order).sent_at is None
    pair.stop_gateway()
    pair.start_engine()  # the engine is reachable again
    pair.start_gateway()
    settled(order, OrderStatus.FILLED, timeout=20)


def test_gateway_restart_loses_nothing_and_applies_nothing_twice(pair, account, acme):
    pair.start_engine()
    pair.start_gateway()
    first = settled(place(account), OrderStatus.FILLED)
    pair.stop_gateway()
    waiting = [place(account, qty=q) for q in (1, 2, 3)]
    pair.start_gateway()
    for order in waiting:
        settled(order, OrderStatus.FILLED)
    assert Execution.objects.count() == 4
    assert Position.objects.get(account=account).qty == 10 + 6
    assert first.executions.count() == 1
    assert Order.objects.filter(status=OrderStatus.FILLED).count() == 4
    assert ledger.verify_balances() == []


def test_replace_a_partially_filled_order(pair, account, acme, market, monkeypatch):
    # The simulator works resting orders only when told here (no ticks), so the order
    # stops after its first part.
    pause = threading.Event()
    original_tick = engine.RoutingEngine.tick
    monkeypatch.setattr(
        engine.RoutingEngine,
        "tick",
        lambda self: None if pause.is_set() else original_tick(self),
    )
    pause.set()
    pair.start_engine()
    pair.start_gateway()
    order = place(account, order_type="limit", limit_price="100.01", qty=250)
    assert gateway.wait_for(lambda: Order.objects.get(pk=order.pk).filled_qty == 100, 10), (
        "the first 100 did not fill"
    )
    order = settled(order, OrderStatus.PARTIALLY_FILLED)

    market.last["ACME"] = D("105.00")  # the replacement will not be marketable
    new = entry.replace_order(order, None, qty=200, limit_price="100.50")
    new = settled(new, OrderStatus.PARTIALLY_FILLED)
    settled(order, OrderStatus.REPLACED)
    assert new.filled_qty == 100 and new.qty == 200
    hold = ledger.balances(account).holds
    assert D("100") * D("100.50") <= hold < D("100") * D("100.50") + 5  # the 100 still to buy

    market.last["ACME"] = D("100.00")
    pause.clear()  # the market crosses the new limit: the rest fills
    new = settled(new, OrderStatus.FILLED)
    assert Position.objects.get(account=account).qty == 200
    assert order.executions.count() == 1 and new.executions.count() == 1
    assert ledger.balances(account).holds == 0
    assert ledger.verify_balances() == []
