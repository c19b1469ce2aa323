"""Order entry (checks, holds, idempotency, outbox) and execution processing (exactly
once, ledger, positions, holds), through the services and the API."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.money import ledger
from accounts.money.models import Hold, JournalEntry
from accounts.opening.models import AccountType
from tests.factories import AccountFactory, fund
from trading.market.models import Security
from trading.orders import entry
from trading.orders.executions import ExecutionReport, apply_cancel_reject, apply_execution_report
from trading.orders.models import (
    Execution,
    ExecutionReportLog,
    Order,
    OrderStatus,
    OutboxMessage,
    Position,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("10000.00"))
    return account


@pytest.fixture
def api(account):
    client = APIClient()
    client.force_authenticate(account.holders.get())
    return client


def place(account, **kwargs):
    values = {
        "symbol": "ACME",
        "side": "buy",
        "order_type": "limit",
        "time_in_force": "day",
        "qty": 10,
        "limit_price": "100.00",
    } | kwargs
    return entry.place_order(account, account.holders.get(), **values)


def report(order, exec_id, exec_type, ord_status, last_qty=0, last_px="0", cum=0, **kw):
    return ExecutionReport(
        exec_id=exec_id,
        cl_ord_id=kw.pop("cl_ord_id", order.cl_ord_id),
        exec_type=exec_type,
        ord_status=ord_status,
        last_qty=last_qty,
        last_px=D(last_px),
        cum_qty=cum,
        leaves_qty=order.qty - cum,
        **kw,
    )


# --- Placing --------------------------------------------------------------------------------


def test_limit_buy_holds_buying_power_and_writes_outbox(account, acme):
    order, created = place(account, qty=10, limit_price="99.50")
    assert created and order.status == OrderStatus.PENDING_NEW
    commission = D("1.00")  # 10 x $0.005, minimum $1
    assert order.held_amount == D("995.00") + commission
    b = ledger.balances(account)
    assert b.holds == D("996.00") and b.buying_power == D("9004.00")
    message = OutboxMessage.objects.get()
    assert message.kind == "new_order" and message.cl_ord_id == order.cl_ord_id
    assert message.payload["limit_price"] == "99.50" and message.sent_at is None


def test_market_buy_held_above_the_ask(account, acme):
    order, _ = place(account, order_type="market", limit_price=None, qty=10)
    assert order.held_amount == D("1051.11")  # 10 x 105.0105 (ask 100.01 + 5%) + $1 commission


def test_refused_order_leaves_nothing(account, acme):
    with pytest.raises(entry.ServiceError) as exc:
        place(account, qty=200, limit_price="100.00")  # $20,000 > $10,000
    assert exc.value.code == "insufficient_buying_power"
    assert "qty" in exc.value.fields
    assert not Order.objects.exists() and not OutboxMessage.objects.exists()
    assert not Hold.objects.filter(reason="order").exists()


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"symbol": "NOPE"}, "symbol", "unknown_symbol"),
        ({"qty": "0"}, "qty", "qty_not_positive"),
        ({"qty": "-5"}, "qty", "qty_not_positive"),
        ({"qty": "1.5"}, "qty", "fractional_qty"),
        ({"qty": "ten"}, "qty", "invalid_qty"),
        ({"qty": "100000000"}, "qty", "qty_too_large"),
        ({"limit_price": "100.001"}, "limit_price", "price_off_tick"),
        ({"limit_price": "0"}, "limit_price", "price_not_positive"),
        ({"limit_price": "-1"}, "limit_price", "price_not_positive"),
        ({"limit_price": "abc"}, "limit_price", "invalid_price"),
        ({"limit_price": "150.00"}, "limit_price", "price_outside_collar"),
        ({"limit_price": None}, "limit_price", "required"),
        (
            {"order_type": "market", "limit_price": None, "stop_price": "95"},
            "stop_price",
            "not_allowed",
        ),
        ({"order_type": "market", "limit_price": "100"}, "limit_price", "not_allowed"),
        ({"order_type": "stop", "limit_price": None}, "stop_price", "required"),
        (
            {
                "order_type": "stop",
                "limit_price": None,
                "stop_price": "105",
                "time_in_force": "ioc",
            },
            "time_in_force",
            "invalid_time_in_force",
        ),
        ({"side": "short"}, "side", "invalid_choice"),
        ({"time_in_force": "forever"}, "time_in_force", "invalid_choice"),
    ],
)
def test_bad_orders_named(account, acme, values, field, code):
    with pytest.raises(entry.ServiceError) as exc:
        place(account, **values)
    assert exc.value.fields[field].code == code
    assert exc.value.fields[field].message
    assert not Order.objects.exists()


def test_halted_restricted_and_closed_market(account, acme, market):
    acme.halted = True
    acme.save()
    with pytest.raises(entry.ServiceError) as exc:
        place(account)
    assert exc.value.code == "symbol_halted"
    acme.halted, acme.tradable = False, False
    acme.save()
    with pytest.raises(entry.ServiceError) as exc:
        place(account)
    assert exc.value.code == "symbol_not_tradable"
    acme.tradable = True
    acme.save()
    market.open = False
    with pytest.raises(entry.ServiceError) as exc:
        place(account, order_type="market", limit_price=None)
    assert exc.value.code == "market_closed"
    order, _ = place(account)  # a limit order waits for the open
    assert order.status == OrderStatus.PENDING_NEW


def test_sub_penny_ticks_below_one_dollar(account, market):
    market.last["PENY"] = D("0.5")
    Security.objects.create(
        symbol="PENY", name="Penny", exchange="NASDAQ", reference_price=D("0.5")
    )
    order, _ = place(account, symbol="PENY", qty=100, limit_price="0.5012")
    assert order.limit_price == D("0.5012")


def test_sell_needs_shares_no_short_sales(account, acme):
    with pytest.raises(entry.ServiceError) as exc:
        place(account, side="sell")
    assert exc.value.code == "insufficient_shares"
    Position.objects.create(account=account, security=acme, qty=15, avg_cost=D("90"))
    place(account, side="sell", qty=10)
    with pytest.raises(entry.ServiceError) as exc:
        place(account, side="sell", qty=6)  # 10 already promised to an open sell
    assert "at most 5 shares" in exc.value.fields["qty"].message


def test_client_order_id_idempotent_and_conflict(account, acme):
    first, created = place(account, client_order_id="abc")
    again, created_again = place(account, client_order_id="abc")
    assert created and not created_again and first.pk == again.pk
    with pytest.raises(entry.ServiceError) as exc:
        place(account, client_order_id="abc", qty=11)
    assert exc.value.code == "client_order_id_conflict" and exc.value.status == 409
    assert Order.objects.count() == 1 and Hold.objects.filter(reason="order").count() == 1


def test_a_retry_after_the_close_or_a_halt_gets_its_order_not_an_error(account, acme, market):
    first, _ = place(account, order_type="market", limit_price=None, client_order_id="r1")
    market.open = False
    again, created = place(account, order_type="market", limit_price=None, client_order_id="r1")
    assert (again.pk, created) == (first.pk, False)
    acme.halted = True
    acme.save()
    again, created = place(account, order_type="market", limit_price=None, client_order_id="r1")
    assert (again.pk, created) == (first.pk, False)
    with pytest.raises(entry.ServiceError) as exc:  # a new order still meets the checks
        place(account, order_type="market", limit_price=None, client_order_id="r2")
    assert exc.value.code == "symbol_halted"
    with pytest.raises(entry.ServiceError) as exc:  # other content under the id: a conflict
        place(account, order_type="market", limit_price=None, client_order_id="r1", qty=3)
    assert exc.value.code == "client_order_id_conflict" and exc.value.status == 409
    with pytest.raises(entry.ServiceError) as exc:  # a request that cannot be the first one
        place(account, order_type="market", limit_price=None, client_order_id="r1", qty="x")
    assert exc.value.code == "client_order_id_conflict" and exc.value.status == 409
    assert Order.objects.count() == 1


# --- Executions -----------------------------------------------------------------------------


def test_fill_without_ack_posts_ledger_position_and_releases_hold(account, acme):
    order, _ = place(account, qty=10, limit_price="100.00")
    apply_execution_report(report(order, "E1", "2", "2", last_qty=10, last_px="99.90", cum=10))
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED and order.filled_avg_price == D("99.9")
    b = ledger.balances(account)
    assert b.cash == D("10000.00") - D("999.00") - D("1.00")
    assert b.holds == 0
    position = Position.objects.get(account=account, security=acme)
    assert (position.qty, position.avg_cost) == (10, D("99.9"))
    assert ledger.verify_balances() == []


def test_each_report_applied_once(account, acme):
    order, _ = place(account, qty=10)
    fill = report(order, "E1", "1", "1", last_qty=4, last_px="100", cum=4)
    for _ in range(3):
        apply_execution_report(fill)
    order.refresh_from_db()
    assert order.filled_qty == 4 and order.status == OrderStatus.PARTIALLY_FILLED
    assert Execution.objects.count() == 1 and ExecutionReportLog.objects.count() == 1
    assert JournalEntry.objects.filter(kind="buy").count() == 1
    # The rest of the order still holds its share of the original hold.
    assert ledger.balances(account).holds == (order.held_amount * 6 / 10).quantize(D("0.01"))


def test_partial_fills_then_cancel(account, acme):
    order, _ = place(account, qty=10)
    apply_execution_report(report(order, "A0", "0", "0"))
    apply_execution_report(report(order, "A1", "1", "1", last_qty=3, last_px="100", cum=3))
    entry.cancel_order(order, None)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_CANCEL
    cancel_msg = OutboxMessage.objects.get(kind="cancel")
    apply_execution_report(
        report(
            order,
            "A2",
            "4",
            "4",
            cum=3,
            cl_ord_id=cancel_msg.cl_ord_id,
            orig_cl_ord_id=order.cl_ord_id,
        )
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and order.filled_qty == 3
    assert ledger.balances(account).holds == 0
    assert Position.objects.get().qty == 3


def test_cancel_that_loses_the_race_to_a_fill(account, acme):
    order, _ = place(account, qty=10)
    entry.cancel_order(order, None)
    cancel_msg = OutboxMessage.objects.get(kind="cancel")
    apply_execution_report(report(order, "F1", "2", "2", last_qty=10, last_px="100", cum=10))
    apply_cancel_reject(cancel_msg.cl_ord_id, order.cl_ord_id, "Too late to cancel")
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED
    assert ledger.balances(account).holds == 0


def test_replace_then_engine_confirms(account, acme):
    order, _ = place(account, qty=10, limit_price="99.00")
    new = entry.replace_order(order, None, qty=20, limit_price="98.00")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_REPLACE and new.replaces == order
    message = OutboxMessage.objects.get(kind="replace")
    assert message.payload["orig_cl_ord_id"] == order.cl_ord_id
    apply_execution_report(report(new, "R1", "5", "0", orig_cl_ord_id=order.cl_ord_id))
    order.refresh_from_db()
    new.refresh_from_db()
    assert order.status == OrderStatus.REPLACED and new.status == OrderStatus.NEW
    assert ledger.balances(account).holds == new.held_amount == D("1961.00")


def test_replace_partly_filled_sell_counts_the_sold_shares(account, acme):
    Position.objects.create(account=account, security=acme, qty=100, avg_cost=D("90"))
    order, _ = place(account, side="sell", qty=100, limit_price="100.00")
    apply_execution_report(report(order, "S1", "1", "1", last_qty=40, last_px="100", cum=40))
    assert Position.objects.get().qty == 60
    new = entry.replace_order(order, None, limit_price="101.00")  # the price only
    assert (new.qty, new.limit_price) == (100, D("101.00"))
    apply_execution_report(report(new, "R1", "5", "1", orig_cl_ord_id=order.cl_ord_id, cum=40))
    new.refresh_from_db()
    assert (new.status, new.filled_qty) == (OrderStatus.PARTIALLY_FILLED, 40)
    assert entry.shares_available(account, acme) == 0
    with pytest.raises(entry.ServiceError) as exc:  # 61 more than the 60 still held
        entry.replace_order(new, None, qty=101)
    assert exc.value.code == "insufficient_shares"
    assert "at most 100 shares" in exc.value.fields["qty"].message
    smaller = entry.replace_order(new, None, qty=70)
    assert smaller.qty == 70


def test_replace_partly_filled_buy_holds_only_for_what_is_left(account, acme):
    order, _ = place(account, qty=50, limit_price="100.00")  # holds $5,001.00
    apply_execution_report(report(order, "B1", "1", "1", last_qty=40, last_px="100", cum=40))
    b = ledger.balances(account)  # $5,999.20 cash, $1,000.20 still held
    assert (b.cash, b.holds, b.buying_power) == (D("5999.20"), D("1000.20"), D("4999.00"))
    with pytest.raises(entry.ServiceError) as exc:  # 70 more need $7,000.64
        entry.replace_order(order, None, qty=110)
    assert exc.value.code == "insufficient_buying_power"
    new = entry.replace_order(order, None, qty=99)  # 59 more: $5,900.60 of a $9,901.00 hold
    assert new.held_amount == D("9901.00")
    assert ledger.balances(account).holds == D("1000.20") + D("5900.60")
    apply_execution_report(report(new, "R1", "5", "1", orig_cl_ord_id=order.cl_ord_id, cum=40))
    b = ledger.balances(account)
    assert (b.holds, b.buying_power) == (D("5900.60"), D("98.60"))
    assert ledger.verify_balances() == []


def test_replace_rejected_keeps_the_original(account, acme):
    order, _ = place(account, qty=10, limit_price="99.00")
    new = entry.replace_order(order, None, limit_price="98.00")
    message = OutboxMessage.objects.get(kind="replace")
    apply_cancel_reject(message.cl_ord_id, order.cl_ord_id, "Order not found", "2")
    order.refresh_from_db()
    new.refresh_from_db()
    assert order.status == OrderStatus.PENDING_NEW  # as it was before the request
    assert new.status == OrderStatus.REJECTED
    assert ledger.balances(account).holds == order.held_amount


def test_engine_reject_releases_hold(account, acme):
    order, _ = place(account)
    apply_execution_report(report(order, "X1", "8", "8", text="Unknown symbol"))
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED and order.reject_reason == "Unknown symbol"
    assert ledger.balances(account).holds == 0


def test_sell_fill_charges_fees_and_books_realized_pnl(account, acme):
    Position.objects.create(account=account, security=acme, qty=100, avg_cost=D("90"))
    order, _ = place(account, side="sell", qty=100, limit_price="100.00")
    apply_execution_report(report(order, "S1", "2", "2", last_qty=100, last_px="100", cum=100))
    position = Position.objects.get()
    assert position.qty == 0 and position.realized_pnl == D("1000.00")
    # principal 10,000 - commission 1.00 - SEC fee 0.28 - TAF 0.02
    b = ledger.balances(account)
    assert b.cash == D("10000.00") + D("10000.00") - D("1.00") - D("0.28") - D("0.02")
    assert b.unsettled_cash == D("9998.70")  # proceeds settle T+1
    assert ledger.verify_balances() == []


# --- API ---------------------------------------------------------------------------------------


def url(account, tail=""):
    return f"/api/v1/accounts/{account.account_number}/orders{tail}"


def test_api_place_list_cancel_replace(api, account, acme):
    body = {
        "symbol": "acme",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "qty": "5",
        "limit_price": "99.5",
        "client_order_id": "c-1",
    }
    created = api.post(url(account), body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["symbol"], data["qty"], data["limit_price"], data["status"]) == (
        "ACME",
        "5",
        "99.5",
        "pending_new",
    )
    assert api.post(url(account), body, format="json").status_code == 200  # retry
    conflict = api.post(url(account), {**body, "qty": "6"}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["fields"]["client_order_id"]["code"] == "client_order_id_conflict"

    replaced = api.patch(url(account, f"/{data['id']}"), {"limit_price": "99.00"}, format="json")
    assert replaced.status_code == 200 and replaced.json()["replaces"] == data["id"]
    assert api.get(url(account, f"/{data['id']}")).json()["status"] == "pending_replace"
    canceled = api.delete(url(account, f"/{replaced.json()['id']}"))
    assert canceled.status_code == 200 and canceled.json()["status"] == "pending_cancel"
    listing = api.get(url(account), {"status": "open"}).json()["results"]
    assert {o["id"] for o in listing} == {data["id"], replaced.json()["id"]}


def test_api_bad_input_is_field_named(api, account, acme):
    response = api.post(
        url(account),
        {
            "symbol": "ACME",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "qty": "1.5",
            "stop_price": "90",
        },
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields["qty"]["code"] == "fractional_qty"
    assert fields["stop_price"]["code"] == "not_allowed"
    assert not Order.objects.exists()


def test_api_other_customers_account_and_orders(api, acme):
    other = AccountFactory()
    fund(other, D("5000.00"))
    theirs, _ = place(other)
    body = {
        "symbol": "ACME",
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "qty": "1",
        "limit_price": "100",
    }
    assert api.post(url(other), body, format="json").status_code == 404
    assert api.get(url(other)).status_code == 404
    assert api.delete(url(other, f"/{theirs.pk}")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.PENDING_NEW
    assert Order.objects.count() == 1


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)"
)


def run_threads(n, target):
    barrier = threading.Barrier(n)
    results = []

    def work():
        try:
            barrier.wait()
            results.append(target())
        except entry.ServiceError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_same_client_order_id_makes_one_order(market):
    market.last["ACME"] = D("100.00")
    Security.objects.create(symbol="ACME", name="Acme", exchange="NYSE", reference_price=100)
    account = AccountFactory()
    fund(account, D("10000.00"))
    results = run_threads(20, lambda: place(account, client_order_id="same")[0].pk)
    assert len(set(results)) == 1 and isinstance(results[0], int)
    assert Order.objects.count() == 1 and Hold.objects.filter(reason="order").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_buys_never_overspend(market):
    market.last["ACME"] = D("100.00")
    Security.objects.create(symbol="ACME", name="Acme", exchange="NYSE", reference_price=100)
    account = AccountFactory(account_type=AccountType.INDIVIDUAL_CASH)
    fund(account, D("5000.00"))
    results = run_threads(20, lambda: place(account, qty=10, limit_price="100.00")[0].pk)
    placed = [r for r in results if isinstance(r, int)]
    assert len(placed) == 4  # 4 x $1,001 <= $5,000 < 5 x $1,001
    assert results.count("insufficient_buying_power") == 16
    b = ledger.balances(account)
    assert b.holds == D("4004.00") and b.buying_power == D("996.00")
