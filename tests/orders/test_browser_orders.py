"""In a real browser: place an order on the ticket and watch it fill on the orders page
without reloading, routed over FIX through the gateway and the simulator."""

from decimal import Decimal

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.factories import PASSWORD, AccountFactory, fund
from trading.market.models import Security

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def test_order_fills_on_screen(live_server, page, market, pair):
    market.last["ACME"] = Decimal("100.00")
    Security.objects.create(
        symbol="ACME", name="Acme Corp", exchange="NYSE", reference_price=Decimal("100")
    )
    account = AccountFactory()
    fund(account, Decimal("5000.00"))
    user = account.holders.get()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}/account/{account.account_number}/trade/")
    page.get_by_label("Symbol").fill("ACME")
    # The quote box follows the symbol typed.
    expect(page.get_by_test_id("quote-ACME").get_by_test_id("last")).to_contain_text("$")
    page.get_by_label("Quantity (shares)").fill("10")
    page.get_by_label("Order type").select_option("limit")
    page.get_by_label("Limit price").fill("101")
    page.get_by_role("button", name="Place order").click()
    assert page.get_by_test_id("order-status").first.inner_text() == "Pending new"

    try:
        pair.start_engine()
        pair.start_gateway()
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=past-order] "
            "[data-testid=order-status]')].some(e => e.innerText === 'Filled')",
            timeout=20_000,
        )
    finally:
        pair.stop()
    assert page.get_by_test_id("open-order").count() == 0
