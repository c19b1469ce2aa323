"""The account event log: every order change, execution, transfer and account status
change writes one event row, in the change's own transaction and with one INSERT."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.events.models import AccountEvent
from accounts.opening import onboarding
from tests.factories import AccountFactory, fund
from trading.orders import entry
from trading.orders.executions import (
    ExecutionReport,
    apply_cancel_reject,
    apply_execution_report,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("10000.00"))
    return account


def kinds(account, after=0):
    return list(
        AccountEvent.objects.filter(account=account, id__gt=after).values_list("kind", flat=True)
    )


def last_id():
    return AccountEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def event_inserts(queries) -> int:
    return sum("accountevent" in q["sql"] and "INSERT" in q["sql"] for q in queries)


def buy(account, qty=10, **kwargs):
    values = {"symbol": "ACME", "side": "buy", "order_type": "market", "time_in_force": "day"}
    order, _ = entry.place_order(account, None, qty=qty, **(values | kwargs))
    return order


def report(order, exec_id, exec_type, ord_status, qty=0, price="100.00", cum=0, **kw):
    return ExecutionReport(
        exec_id=exec_id,
        cl_ord_id=order.cl_ord_id,
        exec_type=exec_type,
        ord_status=ord_status,
        last_qty=qty,
        last_px=D(price),
        cum_qty=cum,
        leaves_qty=order.qty - cum,
        order_id="ENGINE-1",
        **kw,
    )


def test_transfers_write_their_events(account):
    assert kinds(account) == ["transfer.requested", "transfer.completed"]
    event = AccountEvent.objects.filter(account=account).last()
    assert event.payload["amount"] == "10000.00" and event.payload["direction"] == "deposit"


def test_an_order_life_writes_one_event_per_change_with_one_insert(account, acme):
    start = last_id()
    with CaptureQueriesContext(connection) as placed:
        order = buy(account, 10)
    assert event_inserts(placed.captured_queries) == 1
    with CaptureQueriesContext(connection) as acked:
        apply_execution_report(report(order, "E1", "0", "0"))
    with CaptureQueriesContext(connection) as partial:
        apply_execution_report(report(order, "E2", "1", "1", qty=4, cum=4))
    with CaptureQueriesContext(connection) as filled:
        apply_execution_report(report(order, "E3", "2", "2", qty=6, price="101.00", cum=10))
    for queries in (acked, partial, filled):
        assert event_inserts(queries.captured_queries) == 1
    assert kinds(account, start) == [
        "order.pending_new",
        "order.new",
        "order.partial_fill",
        "order.fill",
    ]
    fill = AccountEvent.objects.filter(account=account).last().payload
    assert fill["event"] == "fill" and fill["exec_id"] == "E3"
    assert uuid.UUID(fill["execution_id"])
    assert (fill["qty"], fill["price"], fill["position_qty"]) == ("6", "101", "10")
    assert fill["order"]["id"] == str(order.uuid) and fill["order"]["status"] == "filled"
    assert fill["order"]["filled_qty"] == "10" and fill["order"]["filled_avg_price"] == "100.6"
    assert fill["timestamp"]
    # A redelivery changes nothing and writes nothing.
    before = last_id()
    apply_execution_report(report(order, "E3", "2", "2", qty=6, price="101.00", cum=10))
    assert last_id() == before


def test_cancel_replace_and_their_refusals(account, acme):
    order = buy(account, 5, order_type="limit", time_in_force="gtc", limit_price="99.00")
    apply_execution_report(report(order, "A1", "0", "0"))
    start = last_id()
    entry.cancel_order(order, None)
    cancel = order.outbox.get(kind="cancel")
    apply_cancel_reject(cancel.cl_ord_id, order.cl_ord_id, "too late")
    with CaptureQueriesContext(connection) as replacing:
        new = entry.replace_order(order, None, limit_price="98.00")
    assert event_inserts(replacing.captured_queries) == 1
    assert kinds(account, start) == [
        "order.pending_cancel",
        "order.order_cancel_rejected",
        "order.pending_replace",
        "order.pending_new",
    ]
    start = last_id()
    with CaptureQueriesContext(connection) as replaced:
        apply_execution_report(
            ExecutionReport(
                exec_id="R1",
                cl_ord_id=new.cl_ord_id,
                orig_cl_ord_id=order.cl_ord_id,
                exec_type="5",
                ord_status="0",
                leaves_qty=5,
            )
        )
    assert event_inserts(replaced.captured_queries) == 1
    old_event, new_event = AccountEvent.objects.filter(id__gt=start)
    assert (old_event.kind, new_event.kind) == ("order.replaced", "order.new")
    assert old_event.payload["order"]["replaced_by"] == str(new.uuid)
    assert new_event.payload["order"]["replaces"] == str(order.uuid)
    entry.cancel_order(new, None)
    apply_execution_report(report(new, "C1", "4", "4"))
    assert kinds(account, start)[-2:] == ["order.pending_cancel", "order.canceled"]


def test_expiry_done_for_day_and_rejects(account, acme):
    first = buy(account, 1, order_type="limit", limit_price="99.00")
    second = buy(account, 1, order_type="limit", limit_price="98.00")
    third = buy(account, 1, order_type="limit", limit_price="97.00")
    start = last_id()
    apply_execution_report(report(first, "X1", "C", "C"))
    apply_execution_report(report(second, "X2", "3", "3"))
    apply_execution_report(report(third, "X3", "8", "8", text="no such market"))
    assert kinds(account, start) == ["order.expired", "order.done_for_day", "order.rejected"]
    rejected = AccountEvent.objects.filter(account=account).last().payload
    assert rejected["order"]["reject_reason"] == "no such market"


def test_a_refused_change_leaves_no_event(account, acme):
    start = last_id()
    with pytest.raises(Exception, match="buying power"):
        buy(account, 1000)
    with pytest.raises(RuntimeError), transaction.atomic():
        buy(account, 1)
        raise RuntimeError("rolled back")
    assert kinds(account, start) == []


def test_account_opening_and_status_change(account):
    start = last_id()
    previous = account.status
    account.status = "restricted"
    account.save()
    onboarding.record_status_change(account, previous, None)
    [event] = AccountEvent.objects.filter(id__gt=start)
    assert event.kind == "account.status_changed"
    assert (event.payload["status"], event.payload["previous_status"]) == ("restricted", "active")
