"""The applier on its own (`run_gateway --applier-only`, as in Procfile): PostgreSQL's
NOTIFY from the gateway's INSERT wakes it, so a fill is applied at once rather than at
its next look (here two minutes away)."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from accounts.money import ledger
from tests.factories import AccountFactory, fund
from tests.routing.test_inbox import SESSION, fill
from trading.orders import entry
from trading.orders.models import Order, OrderStatus
from trading.routing import gateway, inbox

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY: PostgreSQL"),
]


def until(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    assert predicate(), f"timed out waiting for {what}"


def listening() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'idle' AND query = %s",
            [f"LISTEN {inbox.NOTIFY_CHANNEL}"],
        )
        return cursor.fetchone()[0] > 0


def test_the_applier_process_is_woken_by_the_gateways_insert(acme):
    account = AccountFactory()
    fund(account, Decimal("10000.00"))
    order, _ = entry.place_order(
        account,
        None,
        symbol="ACME",
        side="buy",
        order_type="limit",
        limit_price="100.00",
        time_in_force="day",
        qty=10,
    )
    stop = threading.Event()
    applier = threading.Thread(
        target=gateway.apply_inbox,
        args=(stop,),
        kwargs={"session": SESSION, "idle_seconds": 120},
        daemon=True,
    )
    applier.start()
    try:
        until(listening, "the applier to listen")
        inbox.store(session=SESSION, raw=fill(order, 1, "1", 10))
        until(
            lambda: Order.objects.get(pk=order.pk).status == OrderStatus.FILLED,
            "the fill to be applied (well before the applier's next look)",
        )
    finally:
        stop.set()
        applier.join(30)
    assert not applier.is_alive()
    assert ledger.verify_balances() == []
    assert ledger.balances(account).holds == 0
