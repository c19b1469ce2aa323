"""In Chromium at 1280 and 390 px: the symbol page, the search and (as they come) the
profile and realized-gains pages fit the window; the header's search works without
JavaScript, as a plain form."""

import os
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, AccountFactory, SecurityFactory, UserFactory, fund
from trading.orders import entry
from trading.orders.models import Position

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [{"width": 1280, "height": 900}, {"width": 390, "height": 844}]
# Where to keep a picture of each page (to look at them): unset, none are kept.
SHOTS = os.environ.get("RUSHTRADE_TEST_SCREENSHOTS")


def log_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(base + "/")


def document_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def customer(acme):
    SecurityFactory(symbol="TSLA", name="Tesla, Inc.")
    SecurityFactory(symbol="AAPL", name="Apple Inc.")
    SecurityFactory(symbol="AMAT", name="Applied Materials, Inc.")
    user = UserFactory(email="a.rather.long.name.for.a.customer@example-brokerage.com")
    account = AccountFactory(holder=user)
    fund(account, Decimal("25000.00"))
    Position.objects.create(account=account, security=acme, qty=40, avg_cost=Decimal("91.25"))
    entry.place_order(
        account,
        user,
        symbol="ACME",
        side="buy",
        order_type="limit",
        limit_price="95.00",
        time_in_force="gtc",
        qty=10,
    )
    return user, account


def customer_pages(account) -> list[str]:
    return [
        reverse("symbol", args=["ACME"]),
        reverse("symbol", args=["ACME"]) + "?range=1M",
        reverse("symbol", args=["ACME"]) + "?range=1Y",
        reverse("search") + "?q=APPL",
        reverse("search") + "?q=zzzz",
        reverse("profile"),
        reverse("account-gains", args=[account.account_number]),
        reverse("account-overview", args=[account.account_number]),
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["1280", "390"])
def test_pages_fit_the_window(live_server, browser, customer, viewport):
    user, account = customer
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url, user.email)
        for path in customer_pages(account):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            width = document_width(page)
            assert width <= viewport["width"], (path, width)
            if SHOTS:
                name = path.strip("/").replace("/", "_").replace("?", "_") or "home"
                page.screenshot(path=f"{SHOTS}/{name}-{viewport['width']}.png", full_page=True)
        # The header keeps to one row: brand, search box, menu button.
        assert page.locator("nav.navbar").bounding_box()["height"] < 80
        # The chart was drawn (Chart.js sized its canvas to the box).
        page.goto(live_server.url + reverse("symbol", args=["ACME"]))
        box = page.get_by_test_id("price-chart").bounding_box()
        assert box["width"] > 200 and box["height"] > 150
        assert page.evaluate("Chart.getChart('symbol-chart').data.datasets[0].data.length") > 2
    finally:
        context.close()


def test_header_search_works_without_javascript(live_server, browser, customer):
    user, _ = customer
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url, user.email)
        box = page.get_by_test_id("header-search")
        assert box.is_visible()  # on a phone too, outside the collapsed menu
        box.fill("Tesla")
        box.press("Enter")
        page.wait_for_url(live_server.url + reverse("symbol", args=["TSLA"]))
        assert page.get_by_test_id("symbol-heading").inner_text().startswith("TSLA")
        page.get_by_test_id("header-search").fill("APPL")
        page.get_by_test_id("header-search").press("Enter")
        page.wait_for_url("**/search/?q=APPL")
        assert "AAPL" in page.get_by_test_id("did-you-mean").inner_text()
    finally:
        context.close()
