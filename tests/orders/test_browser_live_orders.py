"""In a real browser, against the ASGI server: the orders page follows the account's
event stream, so an order's status changes on screen when its fill is applied, with
polling off (PAGE_POLL_SECONDS=0); and the overview's positions follow too."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, AccountFactory, fund
from trading.orders import entry
from trading.orders.executions import ExecutionReport, apply_execution_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = Decimal


def _log_in(page, server, account):
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Email").fill(account.holders.get().email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def _fill(order, qty, cum):
    apply_execution_report(
        ExecutionReport(
            exec_id=f"E{cum}",
            cl_ord_id=order.cl_ord_id,
            exec_type="2" if cum == order.qty else "1",
            ord_status="2" if cum == order.qty else "1",
            last_qty=qty,
            last_px=D("100.00"),
            cum_qty=cum,
            leaves_qty=order.qty - cum,
        )
    )


def test_order_status_changes_from_the_stream_with_polling_off(asgi_server, page, settings, acme):
    settings.PAGE_POLL_SECONDS = 0
    account = AccountFactory()
    fund(account, D("5000.00"))
    order, _ = entry.place_order(
        account,
        None,
        symbol="ACME",
        side="buy",
        order_type="limit",
        time_in_force="day",
        qty=10,
        limit_price="100.00",
    )
    _log_in(page, asgi_server, account)
    fragments = []
    page.on(
        "request",
        lambda r: fragments.append(r.url) if r.headers.get("hx-request") else None,
    )
    page.goto(f"{asgi_server.url}/account/{account.account_number}/orders/")
    status = page.get_by_test_id("open-order").get_by_test_id("order-status")
    expect(status).to_have_text("Pending new")
    expect(page.locator("body")).to_have_attribute("data-live-state", "streaming")
    assert page.locator("#order-tables").get_attribute("data-poll-seconds") == "0"

    _fill(order, 4, 4)
    expect(status).to_have_text("Partially filled", timeout=15_000)
    _fill(order, 6, 10)
    expect(page.get_by_test_id("past-order").get_by_test_id("order-status")).to_have_text(
        "Filled", timeout=15_000
    )
    assert page.get_by_test_id("open-order").count() == 0
    assert fragments and all("/orders/" in url for url in fragments)

    # The overview's positions follow the stream too.
    page.goto(f"{asgi_server.url}/account/{account.account_number}/")
    expect(page.locator("body")).to_have_attribute("data-live-state", "streaming")
    value = page.get_by_test_id("position-ACME").get_by_test_id("market-value")
    expect(value).to_have_text("$1,000.00")
    sell, _ = entry.place_order(
        account, None, symbol="ACME", side="sell", order_type="market", time_in_force="day", qty=4
    )
    apply_execution_report(
        ExecutionReport(
            exec_id="S1",
            cl_ord_id=sell.cl_ord_id,
            exec_type="2",
            ord_status="2",
            last_qty=4,
            last_px=D("100.00"),
            cum_qty=4,
        )
    )
    expect(value).to_have_text("$600.00", timeout=10_000)  # before the 15 s price refresh


def test_order_detail_page_follows_the_stream_with_polling_off(asgi_server, page, settings, acme):
    settings.PAGE_POLL_SECONDS = 0
    account = AccountFactory()
    fund(account, D("5000.00"))
    order, _ = entry.place_order(
        account,
        None,
        symbol="ACME",
        side="buy",
        order_type="limit",
        time_in_force="day",
        qty=10,
        limit_price="100.00",
    )
    _log_in(page, asgi_server, account)
    page.goto(f"{asgi_server.url}/account/{account.account_number}/orders/{order.pk}/")
    status = page.get_by_test_id("order-status")
    expect(status).to_have_text("Pending new")
    expect(page.locator("body")).to_have_attribute("data-live-state", "streaming")
    assert page.locator("#order-summary").get_attribute("data-poll-seconds") == "0"
    expect(page.get_by_test_id("execution")).to_have_count(0)

    _fill(order, 4, 4)
    expect(status).to_have_text("Partially filled", timeout=15_000)
    expect(page.get_by_test_id("execution")).to_have_count(1)
    _fill(order, 6, 10)
    expect(status).to_have_text("Filled", timeout=15_000)
    expect(page.get_by_test_id("execution")).to_have_count(2)
    expect(page.locator("#order-summary")).to_contain_text("10 of 10 at $100.00 average")
