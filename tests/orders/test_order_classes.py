"""Order classes the portal manages (bracket, oco, oto) and trailing stops, through
POST /v2/orders and the engine's answers applied as the applier applies them: the
validation errors (Alpaca's 422 body), holds and shares exact, legs held until the
entry fills and routed once, one leg's fill canceling the other once, the parent's
cancel canceling held legs, nested listings, replacing a leg's price, and trailing
stops followed from the market. Over the real FIX pair: tests/routing/test_order_classes_fix.py."""

from decimal import Decimal

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.money import ledger
from tests.factories import AccountFactory, StaffFactory, filled_order, fund
from trading.market import market_data
from trading.orders import classes, entry
from trading.orders.executions import ExecutionReport, apply_execution_report
from trading.orders.models import Order, OrderStatus, OutboxMessage, Position

from ..alpaca.test_alpaca_api import client_for, fill

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("10000.00"))
    return account


@pytest.fixture
def api(account):
    return client_for(account)


def post(api, **body):
    values = {"symbol": "ACME", "qty": "10", "side": "buy", "time_in_force": "gtc"}
    return api.post("/v2/orders", values | body, format="json")


def bracket(api, **body):
    values = {
        "type": "limit",
        "limit_price": "99",
        "order_class": "bracket",
        "take_profit": {"limit_price": "105"},
        "stop_loss": {"stop_price": "95"},
    }
    response = post(api, **(values | body))
    assert response.status_code == 200, response.json()
    return response.json()


def rows(order, kind=None):
    found = OutboxMessage.objects.filter(order=order)
    return found.filter(kind=kind) if kind else found


def confirm_cancel(order):
    """The engine's answer to the order's cancel request: canceled."""
    request = rows(order, OutboxMessage.Kind.CANCEL).get()
    apply_execution_report(
        ExecutionReport(
            exec_id=f"C-{order.pk}",
            cl_ord_id=request.cl_ord_id,
            orig_cl_ord_id=order.cl_ord_id,
            exec_type="4",
            ord_status="4",
            cum_qty=order.filled_qty,
        )
    )
    order.refresh_from_db()
    return order


def position(account):
    found = Position.objects.filter(account=account).first()
    return found.qty if found else 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"order_class": "bracket", "type": "stop", "stop_price": "99"}, "market or limit"),
        (
            {"order_class": "bracket", "type": "market", "take_profit": {"limit_price": "105"}},
            "needs take_profit.limit_price and stop_loss.stop_price",
        ),
        (
            {
                "order_class": "bracket",
                "type": "market",
                "take_profit": {"limit_price": "96"},
                "stop_loss": {"stop_price": "97"},
            },
            "must be higher than stop_loss.stop_price",
        ),
        (
            {
                "order_class": "bracket",
                "type": "market",
                "take_profit": {"limit_price": "105"},
                "stop_loss": {"stop_price": "100.50"},
            },
            "at least $0.01 below the base price",
        ),
        (
            {
                "order_class": "bracket",
                "type": "limit",
                "limit_price": "98",
                "take_profit": {"limit_price": "105"},
                "stop_loss": {"stop_price": "98"},
            },
            "at least $0.01 below the base price $98.00",
        ),
        (
            {
                "order_class": "bracket",
                "type": "market",
                "time_in_force": "ioc",
                "take_profit": {"limit_price": "105"},
                "stop_loss": {"stop_price": "95"},
            },
            "day or gtc",
        ),
        (
            {
                "order_class": "bracket",
                "type": "market",
                "side": "sell",
                "take_profit": {"limit_price": "95"},
                "stop_loss": {"stop_price": "105"},
            },
            "short sales are not offered",
        ),
        (
            {
                "order_class": "bracket",
                "type": "market",
                "take_profit": {"limit_price": "105"},
                "stop_loss": {"stop_price": "95.001"},
            },
            "in steps of $0.01",
        ),
        (
            {
                "order_class": "oco",
                "type": "market",
                "side": "sell",
                "take_profit": {"limit_price": "105"},
                "stop_loss": {"stop_price": "95"},
            },
            "type must be limit",
        ),
        (
            {
                "order_class": "oco",
                "type": "limit",
                "side": "sell",
                "take_profit": {"limit_price": "105"},
            },
            "needs take_profit and stop_loss",
        ),
        (
            {
                "order_class": "oto",
                "type": "market",
                "take_profit": {"limit_price": "105"},
                "stop_loss": {"stop_price": "95"},
            },
            "not both",
        ),
        (
            {"order_class": "oto", "type": "market", "take_profit": {"stop_price": "105"}},
            "take_profit.stop_price is not allowed",
        ),
        ({"type": "trailing_stop"}, "needs trail_price or trail_percent"),
        (
            {"type": "trailing_stop", "trail_price": "1", "trail_percent": "1"},
            "needs trail_price or trail_percent",
        ),
        ({"type": "trailing_stop", "trail_price": "1", "limit_price": "99"}, "has no limit_price"),
        ({"type": "trailing_stop", "trail_price": "1", "time_in_force": "ioc"}, "day or gtc"),
        ({"type": "trailing_stop", "trail_percent": "150"}, "under 100"),
        (
            {"type": "trailing_stop", "trail_price": "1", "order_class": "bracket"},
            "trailing_stop orders are simple orders",
        ),
        ({"type": "market", "take_profit": {"limit_price": "105"}}, "need order_class"),
        ({"type": "market", "trail_price": "1"}, "are for trailing_stop orders"),
        ({"type": "market", "order_class": "otoco"}, "not offered"),
    ],
)
def test_each_class_refuses_what_alpaca_refuses(api, acme, body, message):
    response = post(api, **body)
    assert response.status_code == 422, response.json()
    data = response.json()
    assert set(data) >= {"code", "message"} and data["code"] in (40010001, 42210000)
    assert message in data["message"], data["message"]
    assert not Order.objects.exists() and not OutboxMessage.objects.exists()


def test_bracket_holds_the_entry_legs_wait_then_route_once_and_a_fill_cancels_the_other(
    api, account, acme
):
    placed = bracket(api)
    assert placed["order_class"] == "bracket" and placed["status"] == "pending_new"
    tp_json, sl_json = placed["legs"]
    assert (tp_json["type"], tp_json["limit_price"], tp_json["side"]) == ("limit", "105", "sell")
    assert (sl_json["type"], sl_json["stop_price"], sl_json["status"]) == ("stop", "95", "held")
    parent = Order.objects.get(uuid=placed["id"])
    tp, sl = parent.legs.order_by("id")
    # The entry holds its cost; the exits (sales) hold nothing and are not routed.
    commission = parent.estimated_commission
    assert ledger.balances(account).holds == D("990.00") + commission
    assert rows(parent).count() == 1 and not rows(tp).exists() and not rows(sl).exists()
    assert entry.shares_available(account, acme) == 0

    fill(parent, 4, "99.00", exec_id="E1")
    tp.refresh_from_db()
    assert tp.status == OrderStatus.HELD
    # The 4 shares bought are the held exits' already: not for another sale.
    assert entry.shares_available(account, acme) == 0
    assert post(api, type="market", side="sell", qty="1", time_in_force="day").status_code == 403

    apply_execution_report(
        ExecutionReport(
            exec_id="E2",
            cl_ord_id=parent.cl_ord_id,
            exec_type="2",
            ord_status="2",
            last_qty=6,
            last_px=D("99.00"),
            cum_qty=10,
        )
    )
    tp.refresh_from_db(), sl.refresh_from_db()
    assert (tp.status, sl.status) == (OrderStatus.PENDING_NEW, OrderStatus.PENDING_NEW)
    assert rows(tp, "new_order").count() == 1 and rows(sl, "new_order").count() == 1
    assert rows(tp).get().payload["order_type"] == "limit"
    assert rows(sl).get().payload["order_type"] == "stop"
    assert ledger.balances(account).holds == 0
    # The pair holds the 10 shares once: none left, and not -10.
    assert position(account) == 10 and entry.shares_available(account, acme) == 0

    fill(tp, 10, "105.00", exec_id="TP")
    sl.refresh_from_db()
    assert sl.status == OrderStatus.PENDING_CANCEL
    assert rows(sl, "cancel").count() == 1
    confirm_cancel(sl)
    assert sl.status == OrderStatus.CANCELED
    assert rows(sl).count() == 2 and rows(tp).count() == 1  # nothing sent twice
    assert position(account) == 0 and ledger.balances(account).holds == 0
    assert entry.shares_available(account, acme) == 0
    assert ledger.verify_balances() == []


def test_oco_holds_the_shares_once_and_the_stop_fill_cancels_the_take_profit(api, account, acme):
    filled_order(account, "buy", 10, "100.00", "BUY")
    response = post(
        api,
        side="sell",
        type="limit",
        order_class="oco",
        take_profit={"limit_price": "105"},
        stop_loss={"stop_price": "95", "limit_price": "94.50"},
    )
    assert response.status_code == 200, response.json()
    tp = Order.objects.get(uuid=response.json()["id"])
    [sl] = tp.legs.all()
    assert (tp.leg, sl.leg, sl.order_type) == ("take_profit", "stop_loss", "stop_limit")
    assert (tp.status, sl.status) == (OrderStatus.PENDING_NEW, OrderStatus.PENDING_NEW)
    assert rows(tp).count() == 1 and rows(sl).count() == 1
    assert entry.shares_available(account, acme) == 0
    one_more = post(api, side="sell", type="limit", limit_price="101", qty="1")
    assert one_more.status_code == 403
    assert ledger.balances(account).holds == 0

    fill(sl, 10, "94.90", exec_id="SL")
    tp.refresh_from_db()
    assert tp.status == OrderStatus.PENDING_CANCEL and rows(tp, "cancel").count() == 1
    confirm_cancel(tp)
    sl.refresh_from_db()
    assert (tp.status, sl.status) == (OrderStatus.CANCELED, OrderStatus.FILLED)
    assert rows(tp).count() == 2 and rows(sl).count() == 1
    assert position(account) == 0 and entry.shares_available(account, acme) == 0


def test_oco_needs_the_shares(api, account, acme):
    filled_order(account, "buy", 5, "100.00", "BUY")
    response = post(
        api,
        side="sell",
        type="limit",
        order_class="oco",
        take_profit={"limit_price": "105"},
        stop_loss={"stop_price": "95"},
    )
    assert response.status_code == 403
    assert response.json()["message"] == "insufficient qty available for order"


def test_oto_routes_its_one_exit_and_canceling_a_held_leg_cancels_the_entry(api, account, acme):
    placed = post(
        api, type="limit", limit_price="99", order_class="oto", stop_loss={"stop_price": "95"}
    ).json()
    parent = Order.objects.get(uuid=placed["id"])
    [sl] = parent.legs.all()
    assert sl.status == OrderStatus.HELD and sl.leg == "stop_loss"
    response = api.delete(f"/v2/orders/{sl.uuid}")
    assert response.status_code == 204
    sl.refresh_from_db(), parent.refresh_from_db()
    # A held leg is canceled at once (nothing was sent); the rest of the group follows.
    assert sl.status == OrderStatus.CANCELED and not rows(sl).exists()
    assert parent.status == OrderStatus.PENDING_CANCEL and rows(parent, "cancel").count() == 1
    confirm_cancel(parent)
    assert parent.status == OrderStatus.CANCELED and ledger.balances(account).holds == 0


def test_canceling_the_parent_cancels_its_held_legs(api, account, acme):
    placed = bracket(api)
    parent = Order.objects.get(uuid=placed["id"])
    assert api.delete(f"/v2/orders/{parent.uuid}").status_code == 204
    legs = list(parent.legs.all())
    assert {leg.status for leg in legs} == {OrderStatus.HELD}  # until the engine confirms
    confirm_cancel(parent)
    assert {leg.status for leg in parent.legs.all()} == {OrderStatus.CANCELED}
    assert not OutboxMessage.objects.filter(order__in=legs).exists()
    assert ledger.balances(account).holds == 0


def test_nested_listing_and_the_legs_on_their_own(api, account, acme):
    placed = bracket(api)
    simple = post(api, type="limit", limit_price="98", qty="1").json()
    nested = api.get("/v2/orders", {"nested": "true", "status": "all"}).json()
    assert [o["id"] for o in nested] == [simple["id"], placed["id"]]
    [_, parent] = nested
    assert [leg["id"] for leg in parent["legs"]] == [leg["id"] for leg in placed["legs"]]
    assert nested[0]["legs"] is None
    assert all(leg["legs"] is None and leg["order_class"] == "bracket" for leg in parent["legs"])
    flat = api.get("/v2/orders", {"status": "all"}).json()
    assert len(flat) == 4 and all(o["legs"] is None for o in flat)
    assert {o["status"] for o in flat} == {"pending_new", "held"}
    one = api.get(f"/v2/orders/{placed['id']}", {"nested": "true"}).json()
    assert len(one["legs"]) == 2


def test_replace_a_held_legs_price_in_place(api, account, acme):
    placed = bracket(api)
    tp_id, sl_id = (leg["id"] for leg in placed["legs"])
    response = api.patch(f"/v2/orders/{sl_id}", {"stop_price": "96"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["id"], response.json()["stop_price"]) == (sl_id, "96")
    too_high = api.patch(f"/v2/orders/{sl_id}", {"stop_price": "106"}, format="json")
    assert too_high.status_code == 422
    assert "must be higher than stop_loss.stop_price" in too_high.json()["message"]
    qty = api.patch(f"/v2/orders/{tp_id}", {"qty": "5"}, format="json")
    assert qty.status_code == 422 and "only its prices change" in qty.json()["message"]
    assert Order.objects.get(uuid=sl_id).stop_price == D("96")
    assert not OutboxMessage.objects.filter(order__uuid__in=[tp_id, sl_id]).exists()


def test_replace_a_routed_legs_price_keeps_it_in_the_group(api, account, acme):
    placed = bracket(api)
    parent = Order.objects.get(uuid=placed["id"])
    fill(parent, 10, "99.00", exec_id="E")
    tp, sl = parent.legs.order_by("id")
    response = api.patch(f"/v2/orders/{tp.uuid}", {"limit_price": "104"}, format="json")
    assert response.status_code == 200, response.json()
    new = Order.objects.get(uuid=response.json()["id"])
    assert (new.group, new.leg, new.parent_id) == (tp.group, "take_profit", parent.pk)
    assert rows(new, "replace").count() == 1
    assert entry.shares_available(account, acme) == 0  # still once for the pair
    nested = api.get(f"/v2/orders/{parent.uuid}", {"nested": "true"}).json()
    assert [leg["id"] for leg in nested["legs"]] == [str(sl.uuid), str(new.uuid)]
    # The engine replaces it; the new take-profit fills and cancels the stop-loss once.
    apply_execution_report(
        ExecutionReport(
            exec_id="R",
            cl_ord_id=new.cl_ord_id,
            orig_cl_ord_id=tp.cl_ord_id,
            exec_type="5",
            ord_status="0",
        )
    )
    fill(new, 10, "104.00", exec_id="TP")
    sl.refresh_from_db()
    assert sl.status == OrderStatus.PENDING_CANCEL and rows(sl, "cancel").count() == 1


def test_a_retried_bracket_is_the_same_order_and_other_legs_conflict(api, account, acme):
    first = bracket(api, client_order_id="b-1")
    again = bracket(api, client_order_id="b-1")
    assert again["id"] == first["id"] and Order.objects.count() == 3
    other = post(
        api,
        type="limit",
        limit_price="99",
        order_class="bracket",
        take_profit={"limit_price": "106"},
        stop_loss={"stop_price": "95"},
        client_order_id="b-1",
    )
    assert other.status_code == 422
    assert other.json()["message"] == "client_order_id must be unique"


# --- trailing stops ----------------------------------------------------------------


def test_trailing_stop_follows_the_market_and_is_routed_once_as_a_market_order(
    api, account, acme, market
):
    filled_order(account, "buy", 10, "100.00", "BUY")
    response = post(api, type="trailing_stop", side="sell", trail_price="2", time_in_force="day")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["type"], data["status"], data["hwm"], data["stop_price"]) == (
        "trailing_stop",
        "new",
        "100",
        "98",
    )
    assert (data["trail_price"], data["trail_percent"]) == ("2", None)
    order = Order.objects.get(uuid=data["id"])
    assert not rows(order).exists() and entry.shares_available(account, acme) == 0

    market.last["ACME"] = D("103.00")
    assert classes.follow_trailing_stops() == 0
    order.refresh_from_db()
    assert (order.hwm, order.stop_price, order.status) == (D("103"), D("101"), "new")
    market.last["ACME"] = D("101.50")  # down, not to the stop: the mark stays
    assert classes.follow_trailing_stops() == 0
    order.refresh_from_db()
    assert (order.hwm, order.stop_price) == (D("103"), D("101"))

    market.last["ACME"] = D("100.90")
    assert classes.follow_trailing_stops() == 1
    assert classes.follow_trailing_stops() == 0  # once
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_NEW and order.triggered_at
    [row] = rows(order)
    assert row.payload["order_type"] == "market" and row.payload["stop_price"] is None
    assert row.cl_ord_id == order.cl_ord_id
    fill(order, 10, "100.89", exec_id="T")
    assert order.status == OrderStatus.FILLED and position(account) == 0
    assert api.get(f"/v2/orders/{order.uuid}").json()["type"] == "trailing_stop"


def test_buy_trailing_stop_in_percent_holds_like_a_stop_and_changes_its_trail(
    api, account, acme, market
):
    data = post(api, type="trailing_stop", trail_percent="1.5", time_in_force="gtc").json()
    order = Order.objects.get(uuid=data["id"])
    assert (data["hwm"], data["stop_price"], data["trail_percent"]) == ("100", "101.5", "1.5")
    # As a stop order at its stop: stop + 5% buffer, times the shares, plus commission.
    held = (D("101.50") * D("1.05")).quantize(D("0.0001")) * 10 + order.estimated_commission
    assert ledger.balances(account).holds == held.quantize(D("0.01"))
    market.last["ACME"] = D("99.00")  # a buy follows the lowest price
    classes.follow_trailing_stops()
    order.refresh_from_db()
    assert (order.hwm, order.stop_price) == (D("99"), D("100.49"))
    response = api.patch(f"/v2/orders/{order.uuid}", {"trail": "2"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["trail_percent"], response.json()["stop_price"]) == ("2", "100.98")
    assert response.json()["id"] == data["id"]
    refused = api.patch(f"/v2/orders/{order.uuid}", {"limit_price": "99"}, format="json")
    assert refused.status_code == 422
    # Canceled before it triggers: nothing to ask the engine, the hold released.
    assert api.delete(f"/v2/orders/{order.uuid}").status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and not rows(order).exists()
    assert ledger.balances(account).holds == 0


def test_trailing_stops_wait_while_closed_and_day_ones_expire_after_the_close(
    api, account, acme, market, monkeypatch
):
    day = post(api, type="trailing_stop", trail_price="1", time_in_force="day").json()
    gtc = post(api, type="trailing_stop", trail_price="1", time_in_force="gtc").json()
    market.open = False
    market.last["ACME"] = D("110.00")  # no trigger outside the regular session
    assert classes.follow_trailing_stops() == 0
    assert {o.status for o in Order.objects.all()} == {"new"}
    later = timezone.now() + timezone.timedelta(seconds=1)
    monkeypatch.setattr(market_data, "previous_close_time", lambda at=None: later)
    assert classes.follow_trailing_stops() == 1
    assert Order.objects.get(uuid=day["id"]).status == OrderStatus.EXPIRED
    assert Order.objects.get(uuid=gtc["id"]).status == OrderStatus.NEW
    assert not OutboxMessage.objects.exists()
    gtc_order = Order.objects.get(uuid=gtc["id"])
    assert ledger.balances(account).holds == gtc_order.held_amount


def test_cancel_all_cancels_a_bracket_once(api, account, acme):
    placed = bracket(api)
    response = api.delete("/v2/orders")
    assert response.status_code == 207
    assert sorted(r["status"] for r in response.json()) == [200, 200, 200]
    parent = Order.objects.get(uuid=placed["id"])
    assert rows(parent, "cancel").count() == 1
    assert {leg.status for leg in parent.legs.all()} == {OrderStatus.CANCELED}
    assert not OutboxMessage.objects.filter(order__parent=parent).exists()


def test_the_beat_schedule_follows_trailing_stops():
    task = PeriodicTask.objects.get(task="trading.tasks.follow_trailing_stops")
    assert task.enabled and (task.interval.every, task.interval.period) == (5, "seconds")


def test_exits_that_cannot_be_routed_are_rejected_with_a_warning(
    api, account, acme, caplog, client
):
    placed = bracket(api)
    parent = Order.objects.get(uuid=placed["id"])
    fill(parent, 4, "99.00", exec_id="E1")
    # The clearing firm's quantity accepted by staff: the 4 shares bought are gone.
    Position.objects.filter(account=account).update(qty=0)
    apply_execution_report(
        ExecutionReport(
            exec_id="E2",
            cl_ord_id=parent.cl_ord_id,
            exec_type="2",
            ord_status="2",
            last_qty=6,
            last_px=D("99.00"),
            cum_qty=10,
        )
    )
    legs = list(parent.legs.order_by("id"))
    assert [leg.status for leg in legs] == [OrderStatus.REJECTED, OrderStatus.REJECTED]
    assert "no longer available" in legs[0].reject_reason
    assert not OutboxMessage.objects.filter(order__in=legs).exists()
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "not routed" in r.message]
    assert len(warnings) == 2 and str(parent.pk) in warnings[0].getMessage()
    client.force_login(StaffFactory())
    page = client.get("/admin/trading/order/", {"status__exact": "rejected"})
    assert page.status_code == 200
    assert "no longer available for this exit" in page.content.decode()


def test_the_order_page_shows_the_group_and_the_trail(api, account, acme, client):
    placed = bracket(api)
    trailing = post(api, type="trailing_stop", trail_percent="2.5", time_in_force="day").json()
    assert "id" in trailing, trailing
    client.force_login(account.holders.get())
    parent = Order.objects.get(uuid=placed["id"])
    page = client.get(f"/account/{account.account_number}/orders/{parent.pk}/").content.decode()
    assert "Bracket" in page and "Take profit" in page and "Stop loss" in page
    assert "(held)" in page and "this order" in page
    order = Order.objects.get(uuid=trailing["id"])
    page = client.get(f"/account/{account.account_number}/orders/{order.pk}/").content.decode()
    assert "2.5% from the low of $100" in page
    orders = client.get(f"/account/{account.account_number}/orders/").content.decode()
    assert "bracket: stop loss" in orders and "(hwm $100)" in orders
