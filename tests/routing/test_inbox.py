"""The inbox on its own: messages stored as received, applied in one batch, what cannot
be applied parked alone (its ledger sums forgotten), redeliveries recognised."""

import logging
from decimal import Decimal

import pytest

from accounts.money import ledger
from tests.factories import AccountFactory, fund
from trading.orders import entry
from trading.orders.models import Execution, OrderStatus, Position
from trading.routing import inbox
from trading.routing.models import InboundMessage

pytestmark = pytest.mark.django_db
SESSION = "RUSHTRADE->ROUTER"
SOH = "\x01"


def fill(order, seq, exec_id, qty, *, poss_dup=False, price="100.00", cum=None, trans="0", ref=""):
    cum = qty if cum is None else cum
    status = "2" if cum == order.qty else "1"
    fields = [
        (8, "FIX.4.2"), (35, "8"), (34, seq), (49, "ROUTER"), (56, "RUSHTRADE"),
        (37, f"O{order.pk}"), (11, order.cl_ord_id), (17, exec_id), (20, trans),
        (150, status), (39, status), (55, "ACME"), (54, "1"), (38, order.qty), (32, qty),
        (31, price), (151, max(0, order.qty - cum)), (14, cum), (6, price),
        (60, "20261127-15:00:00.000"),
    ]  # fmt: skip
    if ref:
        fields.insert(9, (19, ref))
    if poss_dup:
        fields.insert(3, (43, "Y"))
    return SOH.join(f"{tag}={value}" for tag, value in fields) + SOH


@pytest.fixture
def orders(acme):
    account = AccountFactory()
    fund(account, Decimal("10000.00"))
    return [
        entry.place_order(
            account,
            None,
            symbol="ACME",
            side="buy",
            order_type="limit",
            limit_price="100.00",
            time_in_force="day",
            qty=10,
        )[0]
        for _ in range(3)
    ]


def test_a_batch_applies_what_it_can_and_parks_the_rest(orders, caplog):
    caplog.set_level(logging.WARNING)
    first, second, third = orders
    for raw in [
        fill(first, 1, "1", 10),
        fill(second, 2, "2", 25),  # past the order's quantity
        "8=FIX.4.2\x0135=8\x0134=3\x01garbage\x01",  # malformed
        fill(third, 4, "3", 10),
        fill(first, 1, "1", 10, poss_dup=True),  # a resend
    ]:
        inbox.store(session=SESSION, raw=raw)
    assert inbox.apply_pending(SESSION) == 5
    states = list(InboundMessage.objects.order_by("id").values_list("state", flat=True))
    assert states == ["applied", "parked", "parked", "applied", "duplicate"]
    for order, status in zip(orders, ["filled", "pending_new", "filled"], strict=True):
        order.refresh_from_db()
        assert order.status == status
    assert Execution.objects.count() == 2
    assert ledger.verify_balances() == []  # the parked fill's ledger sums were forgotten
    assert ledger.balances(orders[0].account).holds == second.held_amount
    parked = InboundMessage.objects.filter(state="parked").order_by("id")
    assert "past its quantity" in parked[0].reason
    assert "not a FIX field" in parked[1].reason
    assert sum("Parked inbound FIX message" in r.getMessage() for r in caplog.records) == 2


def test_a_parked_message_applies_once_its_cause_is_fixed(orders):
    order = orders[0]
    inbox.store(session=SESSION, raw=fill(order, 1, "1", 10).replace(order.cl_ord_id, "LATE"))
    inbox.apply_pending(SESSION)
    parked = InboundMessage.objects.get()
    assert parked.state == "parked" and "unknown ClOrdID 'LATE'" in parked.reason
    order.cl_ord_id = "LATE"  # staff found the order it belongs to
    order.save(update_fields=["cl_ord_id"])
    assert inbox.retry(InboundMessage.objects.all()) == 1
    inbox.apply_pending(SESSION)
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED
    assert InboundMessage.objects.get().state == "applied"
    assert ledger.verify_balances() == []


def test_the_same_execid_with_other_content_is_a_new_fill(orders, caplog):
    """An engine that numbers ExecIDs per process may reuse one for the same order."""
    caplog.set_level(logging.WARNING)
    order = orders[0]
    inbox.store(session=SESSION, raw=fill(order, 1, "7", 4).replace("39=2", "39=1"))
    inbox.store(session=SESSION, raw=fill(order, 2, "7", 6, price="100.01"))
    inbox.apply_pending(SESSION)
    order.refresh_from_db()
    assert order.filled_qty == 10 and order.status == OrderStatus.FILLED
    assert any("ExecID 7 reused" in r.getMessage() for r in caplog.records)
    assert ledger.verify_balances() == []


def test_a_warning_of_a_batch_that_also_parks_is_logged_once(orders, caplog):
    """The fast attempt of a batch is rolled back when a message must be parked; the
    warnings it met are not logged twice."""
    caplog.set_level(logging.WARNING)
    first, second, _ = orders
    inbox.store(session=SESSION, raw=fill(first, 1, "7", 4, cum=4))
    inbox.store(session=SESSION, raw=fill(first, 2, "7", 6, cum=10, price="100.01"))
    inbox.store(session=SESSION, raw=fill(second, 3, "8", 25))  # past the quantity: parked
    assert inbox.apply_pending(SESSION) == 3
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("ExecID 7 reused" in m for m in messages) == 1
    assert sum("Parked inbound FIX message" in m for m in messages) == 1
    first.refresh_from_db()
    assert first.status == OrderStatus.FILLED and first.filled_qty == 10
    assert ledger.verify_balances() == []


def test_partial_fills_and_a_bust_in_one_batch(orders, caplog):
    """Holds shrink with each partial fill, and a bust in the same batch as the fill it
    undoes finds it (what the batch defers is written before a bust): the fast way."""
    caplog.set_level(logging.DEBUG, logger="trading.routing.inbox")
    order, other, _ = orders
    account = order.account
    for raw in [
        fill(order, 1, "1", 3, cum=3),
        fill(order, 2, "2", 3, cum=6, price="99.00"),
        fill(other, 3, "3", 10),
        fill(order, 4, "4", 3, cum=3, trans="1", ref="2"),  # the second fill busted
    ]:
        inbox.store(session=SESSION, raw=raw)
    assert inbox.apply_pending(SESSION) == 4
    assert not any("careful way" in r.getMessage() for r in caplog.records)
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {"applied"}
    order.refresh_from_db()
    assert order.filled_qty == 3 and order.status == OrderStatus.PARTIALLY_FILLED
    assert order.filled_avg_price == Decimal("100.0000")
    assert Execution.objects.filter(order=order, busted_at__isnull=False).count() == 1
    position = Position.objects.get(account=account)
    assert position.qty == 13 and position.avg_cost == Decimal("100.0000")
    third = orders[2]
    remaining = (order.held_amount * 7 / 10).quantize(Decimal("0.01"))
    assert ledger.balances(account).holds == remaining + third.held_amount
    assert ledger.verify_balances() == []
    assert "busted" in order.notice
