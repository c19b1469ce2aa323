"""Bracket, oco, oto and trailing-stop round trips over the real FIX pair (the gateway
and the routing engine simulator on loopback) on PostgreSQL: the engine sees only plain
orders; each leg is routed once and canceled once; holds and shares exact; the ledger
balances."""

from decimal import Decimal

import pytest
from django.db import connection

from accounts.money import ledger
from tests.factories import AccountFactory, fund
from trading.orders import classes, entry
from trading.orders.models import Order, OrderStatus, OutboxMessage, Position
from trading.routing import gateway

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]
D = Decimal
TP, SL = classes.Exit(limit_price="105"), classes.Exit(stop_price="95")


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("50000.00"))
    return account


@pytest.fixture
def running(pair):
    pair.start_engine()
    pair.start_gateway()
    return pair


def settled(order, *statuses, timeout=15):
    def check():
        order.refresh_from_db()
        return order.status in statuses

    assert gateway.wait_for(check, timeout), f"order {order.pk} is {order.status}, not {statuses}"
    return order


def sent(order, kind):
    """The order's messages of `kind` that went to the engine."""
    return OutboxMessage.objects.filter(order=order, kind=kind, sent_at__isnull=False).count()


def place_class(account, order_class, **kwargs):
    values = {
        "symbol": "ACME",
        "side": "buy",
        "order_type": "market",
        "time_in_force": "gtc",
        "qty": 10,
        "order_class": order_class,
    } | kwargs
    return classes.place_order_class(account, account.holders.get(), **values)[0]


def buy_shares(account, qty=10):
    order, _ = entry.place_order(
        account,
        None,
        symbol="ACME",
        side="buy",
        order_type="market",
        time_in_force="day",
        qty=qty,
    )
    return settled(order, OrderStatus.FILLED)


def position(account):
    found = Position.objects.filter(account=account).first()
    return found.qty if found else 0


def clean(account):
    assert ledger.balances(account).holds == 0
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
    assert ledger.verify_balances() == []


def test_bracket_entry_fills_legs_routed_once_take_profit_fills_stop_loss_canceled_once(
    running, account, acme, market
):
    parent = settled(place_class(account, "bracket", take_profit=TP, stop_loss=SL), "filled")
    tp, sl = parent.legs.order_by("id")
    settled(tp, OrderStatus.NEW), settled(sl, OrderStatus.NEW)
    assert (tp.order_type, sl.order_type) == ("limit", "stop")
    assert sent(tp, "new_order") == 1 and sent(sl, "new_order") == 1
    assert ledger.balances(account).holds == 0
    assert position(account) == 10 and entry.shares_available(account, acme) == 0

    market.last["ACME"] = D("106.00")  # the take-profit's limit is crossed
    settled(tp, OrderStatus.FILLED)
    settled(sl, OrderStatus.CANCELED)
    assert tp.filled_avg_price == D("105.99")  # the bid
    assert sent(sl, "cancel") == 1 and sent(tp, "cancel") == 0
    assert sent(tp, "new_order") == 1 and sent(sl, "new_order") == 1
    assert position(account) == 0
    clean(account)


def test_canceling_a_resting_entry_cancels_its_held_legs(running, account, acme):
    parent = place_class(
        account,
        "bracket",
        order_type="limit",
        limit_price="95.50",
        take_profit=TP,
        stop_loss=classes.Exit(stop_price="94", limit_price="93.50"),
    )
    settled(parent, OrderStatus.NEW)  # rests: the ask is 100.01
    entry.cancel_order(parent, None)
    settled(parent, OrderStatus.CANCELED)
    legs = list(parent.legs.all())
    assert [leg.status for leg in legs] == [OrderStatus.CANCELED, OrderStatus.CANCELED]
    assert not OutboxMessage.objects.filter(order__in=legs).exists()  # never routed
    clean(account)


def test_oco_exit_pair_stop_fills_take_profit_canceled_once(running, account, acme, market):
    buy_shares(account)
    tp = place_class(account, "oco", side="sell", order_type="limit", take_profit=TP, stop_loss=SL)
    [sl] = tp.legs.all()
    settled(tp, OrderStatus.NEW), settled(sl, OrderStatus.NEW)
    assert entry.shares_available(account, acme) == 0
    market.last["ACME"] = D("94.00")  # the stop is reached: a market sale
    settled(sl, OrderStatus.FILLED)
    settled(tp, OrderStatus.CANCELED)
    assert sl.filled_avg_price == D("93.99")
    assert sent(tp, "cancel") == 1 and sent(sl, "cancel") == 0
    assert position(account) == 0
    clean(account)


def test_oto_stop_loss_replaced_then_triggered(running, account, acme, market):
    parent = settled(place_class(account, "oto", stop_loss=SL), OrderStatus.FILLED)
    [sl] = parent.legs.all()
    settled(sl, OrderStatus.NEW)
    new = entry.replace_order(sl, None, stop_price="97")
    settled(sl, OrderStatus.REPLACED)
    settled(new, OrderStatus.NEW)
    assert (new.group, new.leg, new.parent_id, new.stop_price) == (
        sl.group,
        "stop_loss",
        parent.pk,
        D("97"),
    )
    assert entry.shares_available(account, acme) == 0
    market.last["ACME"] = D("96.50")
    settled(new, OrderStatus.FILLED)
    assert position(account) == 0 and sent(new, "cancel") == 0
    clean(account)


def test_trailing_stop_triggered_by_a_market_move_fills_as_a_market_order(
    running, account, acme, market
):
    buy_shares(account)
    order, _ = classes.place_trailing_stop(
        account, None, symbol="ACME", side="sell", time_in_force="gtc", qty=10, trail_price="2"
    )
    market.last["ACME"] = D("104.00")
    classes.follow_trailing_stops()
    market.last["ACME"] = D("101.90")
    assert classes.follow_trailing_stops() == 1
    order = settled(order, OrderStatus.FILLED)
    assert (order.hwm, order.stop_price, order.order_type) == (D("104"), D("102"), "trailing_stop")
    assert order.filled_avg_price == D("101.89")  # the bid when it was routed
    assert sent(order, "new_order") == 1
    assert OutboxMessage.objects.get(order=order).payload["order_type"] == "market"
    assert classes.follow_trailing_stops() == 0
    assert position(account) == 0
    clean(account)


def test_buy_trailing_stop_hold_released_by_its_fill(running, account, acme, market):
    order, _ = classes.place_trailing_stop(
        account, None, symbol="ACME", side="buy", time_in_force="day", qty=5, trail_percent="1"
    )
    assert ledger.balances(account).holds == order.held_amount > 0
    market.last["ACME"] = D("101.00")  # the stop is 100 + 1%
    assert classes.follow_trailing_stops() == 1
    settled(order, OrderStatus.FILLED)
    assert order.filled_avg_price == D("101.01") and position(account) == 5
    clean(account)
    assert Order.objects.filter(account=account).count() == 1
