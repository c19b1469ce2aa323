"""The order ticket, the orders page and order details; staff cancel in admin."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, StaffFactory, fund
from trading.market.models import Security
from trading.orders import entry
from trading.orders.models import Order, OrderStatus, OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def account(market):
    market.last["ACME"] = D("100.00")
    Security.objects.create(
        symbol="ACME", name="Acme Corp", exchange="NYSE", reference_price=D("100")
    )
    account = AccountFactory()
    fund(account, D("5000.00"))
    return account


@pytest.fixture
def customer(client, account):
    client.force_login(account.holders.get())
    return client


TICKET = {
    "symbol": "acme",
    "side": "buy",
    "qty": "10",
    "order_type": "limit",
    "limit_price": "99.50",
    "stop_price": "",
    "time_in_force": "day",
    "client_order_id": "ticket-1",
}


def test_preview_then_place_once(customer, account):
    url = reverse("account-trade", args=[account.account_number])
    assert customer.get(url).status_code == 200
    preview = customer.post(url, {**TICKET, "preview": "1"})
    html = preview.content.decode()
    assert 'data-testid="preview-total">$996.00' in html  # 10 x 99.50 + $1 commission
    assert not Order.objects.exists()
    assert customer.post(url, {**TICKET, "place": "1"}).status_code == 302
    assert customer.post(url, {**TICKET, "place": "1"}).status_code == 302  # double submit
    assert Order.objects.count() == 1
    page = customer.get(reverse("account-orders", args=[account.account_number]))
    assert "Buy 10 ACME" in page.content.decode()
    partial = customer.get(
        reverse("account-orders", args=[account.account_number]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Pending new" in partial and "<html" not in partial


def test_ticket_errors_are_shown_beside_fields(customer, account):
    url = reverse("account-trade", args=[account.account_number])
    response = customer.post(url, {**TICKET, "qty": "2.5", "limit_price": "99.505", "place": "1"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "Only whole shares" in errors["qty"][0]
    assert "steps of $0.01" in errors["limit_price"][0]
    response = customer.post(url, {**TICKET, "qty": "100", "place": "1"})
    assert "your buying power is $5,000.00" in response.context["form"].errors["qty"][0]
    assert not Order.objects.exists()


def test_cancel_and_replace_from_pages(customer, account):
    order, _ = entry.place_order(
        account,
        account.holders.get(),
        symbol="ACME",
        side="buy",
        order_type="limit",
        time_in_force="gtc",
        qty=5,
        limit_price="99",
    )
    detail = customer.get(reverse("account-order", args=[account.account_number, order.pk]))
    assert detail.status_code == 200 and "Replace this order" in detail.content.decode()
    customer.post(
        reverse("account-order-replace", args=[account.account_number, order.pk]),
        {"qty": "6", "limit_price": "98.50", "stop_price": ""},
    )
    new = Order.objects.get(replaces=order)
    assert (new.qty, new.limit_price) == (6, D("98.50"))
    customer.post(reverse("account-order-cancel", args=[account.account_number, new.pk]))
    new.refresh_from_db()
    assert new.status == OrderStatus.PENDING_CANCEL


def test_other_customers_order_pages_are_404(customer, market):
    other = AccountFactory()
    fund(other, D("1000"))
    theirs, _ = entry.place_order(
        other,
        other.holders.get(),
        symbol="ACME",
        side="buy",
        order_type="limit",
        time_in_force="day",
        qty=1,
        limit_price="100",
    )
    number = other.account_number
    assert customer.get(reverse("account-trade", args=[number])).status_code == 404
    assert customer.get(reverse("account-orders", args=[number])).status_code == 404
    assert customer.get(reverse("account-order", args=[number, theirs.pk])).status_code == 404
    assert (
        customer.post(reverse("account-order-cancel", args=[number, theirs.pk])).status_code == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.PENDING_NEW


def test_staff_cancels_through_the_same_path(client, account):
    order, _ = entry.place_order(
        account,
        account.holders.get(),
        symbol="ACME",
        side="buy",
        order_type="limit",
        time_in_force="day",
        qty=1,
        limit_price="100",
    )
    client.force_login(StaffFactory())
    changelist = reverse("admin:trading_order_changelist")
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "cancel_orders", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_CANCEL
    assert OutboxMessage.objects.filter(order=order, kind="cancel").exists()
    assert client.get(reverse("admin:trading_order_change", args=[order.pk])).status_code == 200


def test_symbol_search_and_ticket_quote(customer, account):
    Security.objects.create(
        symbol="ACN", name="Accenture", exchange="NYSE", reference_price=D("300")
    )
    Security.objects.create(
        symbol="MACE", name="Mace Holdings", exchange="NYSE", reference_price=D("9")
    )
    Security.objects.create(
        symbol="ACX", name="Gone Inc", exchange="NYSE", reference_price=D("1"), status="inactive"
    )
    search = reverse("symbol-search")
    html = customer.get(search, {"symbol": "ac"}).content.decode()
    # Symbols starting with the text first (shortest first), then names containing it;
    # inactive securities left out.
    assert html.index('value="ACN"') < html.index('value="ACME"') < html.index('value="MACE"')
    assert "ACX" not in html and "<html" not in html
    assert customer.get(search, {"symbol": "acme"}).content.decode().count("<option") == 1
    assert customer.get(search, {"symbol": ""}).content.decode().strip() == ""

    quote = reverse("ticket-quote")
    box = customer.get(quote, {"symbol": "acme"}).content.decode()
    assert 'data-testid="last">$100.00' in box and 'data-testid="ask">$100.01' in box
    assert (
        "No security with the symbol ZZZZ"
        in customer.get(quote, {"symbol": "zzzz"}).content.decode()
    )
    ticket = customer.get(reverse("account-trade", args=[account.account_number])).content.decode()
    assert 'list="symbol-options"' in ticket and 'id="ticket-quote"' in ticket


def test_symbol_search_needs_login(client):
    response = client.get(reverse("symbol-search"), {"symbol": "a"})
    assert response.status_code == 302
