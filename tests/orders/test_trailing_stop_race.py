"""Trailing stops followed by two workers at once (two beat runs overlapping, or two
worker processes): each stop is routed exactly once, under its row lock. Real threads on
PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from tests.factories import AccountFactory, filled_order, fund
from trading.orders import classes
from trading.orders.models import Order, OrderStatus, OutboxMessage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL"),
]
D = Decimal


def test_two_workers_at_once_route_each_trailing_stop_once(acme, market):
    account = AccountFactory()
    fund(account, D("10000.00"))
    filled_order(account, "buy", 30, "100.00", "BUY")
    stops = [
        classes.place_trailing_stop(
            account, None, symbol="ACME", side="sell", time_in_force="gtc", qty=10, trail_price="1"
        )[0]
        for _ in range(3)
    ]
    market.last["ACME"] = D("98.50")  # under every stop (99)
    start = threading.Barrier(2)
    counts, failures = [], []

    def worker():
        try:
            start.wait(10)
            counts.append(classes.follow_trailing_stops())
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures
    assert sum(counts) == 3
    for stop in stops:
        assert OutboxMessage.objects.filter(order=stop).count() == 1
        assert Order.objects.get(pk=stop.pk).status == OrderStatus.PENDING_NEW
