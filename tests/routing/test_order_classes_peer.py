"""A bracket against the routing engine we did not write (tests/routing/peer_engine.py):
the entry filled in parts out of order, the exits routed once when the last part is
applied, a partial fill of the take-profit canceling the stop-loss with one
OrderCancelRequest; the ledger sound and the holds exact."""

from decimal import Decimal

import pytest
from django.db import connection

from tests.routing import test_gateway_peer as peer_tests
from trading.orders import classes, entry
from trading.orders.models import OrderStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]
D = Decimal
WAIT = peer_tests.WAIT

# The peer's fixtures (re-exported: pytest finds fixtures by module attribute).
peer_factory = peer_tests.peer_factory
gateways = peer_tests.gateways
account = peer_tests.account
status_of, sound, until = peer_tests.status_of, peer_tests.sound, peer_tests.until


def received(peer, msg_type, order):
    return peer.control("received", msg_type=msg_type, cl_ord_id=order.cl_ord_id)["messages"]


def test_bracket_against_the_peer_engine(peer_factory, gateways, account, acme):
    peer = peer_factory({"mode": "rest"})  # every order rests until told; stops refused
    gateways(peer)
    parent, _ = classes.place_order_class(
        account,
        None,
        order_class="bracket",
        symbol="ACME",
        side="buy",
        order_type="limit",
        limit_price="100.05",
        time_in_force="day",
        qty=9,
        take_profit=classes.Exit(limit_price="104"),
        # a stop-limit: the peer refuses plain stops (OrdType 3) as some engines do
        stop_loss=classes.Exit(stop_price="95", limit_price="94.50"),
    )
    status_of(parent, OrderStatus.NEW)
    tp, sl = parent.legs.order_by("id")
    peer.control("fill", cl_ord_id=parent.cl_ord_id, parts=3, order="reverse")
    status_of(parent, OrderStatus.FILLED)
    status_of(tp, OrderStatus.NEW), status_of(sl, OrderStatus.NEW)
    assert len(received(peer, "D", tp)) == 1 and len(received(peer, "D", sl)) == 1
    assert entry.shares_available(account, acme) == 0
    sound(account)

    peer.control("fill", cl_ord_id=tp.cl_ord_id, qty=4, price="104")
    status_of(tp, OrderStatus.PARTIALLY_FILLED)
    status_of(sl, OrderStatus.CANCELED)
    cancels = peer.control("received", msg_type="F")["messages"]
    assert [m["orig_cl_ord_id"] for m in cancels] == [sl.cl_ord_id]
    assert entry.shares_available(account, acme) == 0  # 5 left, promised to the take-profit
    peer.control("fill", cl_ord_id=tp.cl_ord_id, price="104.10")
    status_of(tp, OrderStatus.FILLED)
    assert peer.control("received", msg_type="F")["messages"] == cancels  # nothing more
    assert tp.filled_qty == 9 and sl.filled_qty == 0
    sound(account)
