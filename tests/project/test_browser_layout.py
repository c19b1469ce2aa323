"""In a real browser at 1280 and 390 px: no customer page is wider than the window
(issue 15, point 6: the home page was 489 px wide on a phone, a long e-mail address in
its heading), and on a phone the ticket shows the quote before "Place order"."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.opening import onboarding
from tests.factories import PASSWORD, AccountFactory, UserFactory, fund
from trading.market.models import WatchlistItem
from trading.market.watchlist import default_watchlist
from trading.orders import entry
from trading.orders.models import Position

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_EMAIL = "christopher.alexander.montgomery-smith@example-brokerage-customer.com"
VIEWPORTS = [{"width": 1280, "height": 900}, {"width": 390, "height": 844}]


def log_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(base + "/")


def overflow(page, width: int) -> tuple[int, list[str]]:
    """The document's width, and what sticks out (outside a scrolling table box)."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        f" > {width} + 1 && !e.closest('.table-responsive, .dropdown-menu, .collapse'))"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
    )
    return scroll_width, wide


@pytest.fixture
def customer(acme):
    user = UserFactory(email=LONG_EMAIL, first_name="", last_name="")
    account = AccountFactory(holder=user)
    fund(account, Decimal("25000.00"))
    Position.objects.create(account=account, security=acme, qty=1250, avg_cost=Decimal("91.25"))
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
    WatchlistItem.objects.create(user=user, watchlist=default_watchlist(user), security=acme)
    application = onboarding.start_application(user)
    return user, account, application


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["1280", "390"])
def test_no_page_is_wider_than_the_window(live_server, browser, customer, viewport):
    user, account, application = customer
    number = account.account_number
    pages = [
        "/",
        reverse("account-overview", args=[number]),
        reverse("account-trade", args=[number]) + "?symbol=ACME",
        reverse("account-orders", args=[number]),
        reverse("account-transfers", args=[number]),
        reverse("account-activity", args=[number]),
        reverse("account-documents", args=[number]),
        reverse("account-api-keys", args=[number]),
        reverse("portfolio-combined"),
        reverse("watchlist"),
        reverse("application-detail", args=[application.pk]),
        *(
            reverse("application-step", args=[application.pk, step])
            for step in (
                "account-type",
                "identity",
                "address",
                "tax-id",
                "profile",
                "disclosures",
                "trusted-contact",
                "review",
            )
        ),
    ]
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        for path in ["/", "/accounts/login/", "/accounts/signup/"]:  # logged out
            page.goto(live_server.url + path)
            width, wide = overflow(page, viewport["width"])
            assert width <= viewport["width"], (path, width, wide)
        log_in(page, live_server.url, user.email)
        for path in pages:
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            width, wide = overflow(page, viewport["width"])
            assert width <= viewport["width"], (path, width, wide)
    finally:
        context.close()


def test_on_a_phone_the_quote_comes_before_place_order(live_server, browser, customer):
    user, account, _ = customer
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url, user.email)
        ticket = reverse("account-trade", args=[account.account_number])
        page.goto(f"{live_server.url}{ticket}?symbol=ACME")
        quote = page.get_by_test_id("quote-ACME")
        quote.wait_for()
        place = page.get_by_role("button", name="Place order")
        assert quote.bounding_box()["y"] < page.locator("#id_symbol").bounding_box()["y"]
        assert quote.bounding_box()["y"] < place.bounding_box()["y"]
        # A preview sits above the buttons, not below them.
        page.get_by_label("Quantity (shares)").fill("5")
        page.get_by_label("Order type").select_option("limit")
        page.get_by_label("Limit price").fill("99.00")
        page.get_by_role("button", name="Preview").click()
        preview = page.get_by_test_id("preview-section")
        preview.wait_for()
        place = page.get_by_role("button", name="Place order")
        assert preview.bounding_box()["y"] < place.bounding_box()["y"]
    finally:
        context.close()
