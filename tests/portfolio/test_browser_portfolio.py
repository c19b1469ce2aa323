"""In a real browser: the overview's position value follows the quote, on a desktop and
on a phone-sized screen."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, AccountFactory, fund
from trading.market.models import Security
from trading.orders.models import Position

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}]
)
def test_position_value_follows_the_quote(live_server, browser, market, viewport):
    account = AccountFactory()
    fund(account, Decimal("1000.00"))
    security = Security.objects.create(
        symbol="ACME", name="Acme Corp", exchange="NYSE", reference_price=Decimal("100")
    )
    market.last["ACME"] = Decimal("100.00")
    Position.objects.create(account=account, security=security, qty=10, avg_cost=Decimal("90"))
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Email").fill(account.holders.get().email)
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.get_by_role("link", name=account.account_number).click()
        row = page.get_by_test_id("position-ACME")
        expect(row.get_by_test_id("market-value")).to_have_text("$1,000.00")
        expect(page.get_by_test_id("equity")).to_have_text("$2,000.00")
        market.last["ACME"] = Decimal("112.50")  # the page is not reloaded
        expect(row.get_by_test_id("market-value")).to_have_text("$1,125.00", timeout=12_000)
        expect(row.get_by_test_id("last")).to_have_text("$112.50")
        expect(page.get_by_test_id("equity")).to_have_text("$2,125.00")
        # Nothing wider than the screen: the table scrolls inside its own box.
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            f" > {viewport['width']} + 1 && !e.closest('.table-responsive'))"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
        )
        assert width <= viewport["width"], wide
    finally:
        context.close()
