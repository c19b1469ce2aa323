"""The ticket's preview (issue 15, point 4): the estimated price is the quote (the ask
for a buy, the bid for a sale) or the order's limit; the hold, with the buffer above
the ask for a market order, is shown apart and labelled as such."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, fund
from trading.orders import entry
from trading.orders.models import Order, Position

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def account(acme):
    account = AccountFactory()
    fund(account, D("5000.00"))
    Position.objects.create(account=account, security=acme, qty=20, avg_cost=D("90"))
    return account


@pytest.fixture
def customer(client, account):
    client.force_login(account.holders.get())
    return client


def preview(customer, account, **values):
    data = {
        "symbol": "ACME",
        "side": "buy",
        "qty": "10",
        "order_type": "market",
        "limit_price": "",
        "stop_price": "",
        "time_in_force": "day",
        "client_order_id": "preview-1",
        "preview": "1",
        **values,
    }
    response = customer.post(reverse("account-trade", args=[account.account_number]), data)
    assert response.status_code == 200, response.context["form"].errors
    return response.content.decode()


def figure(html, testid):
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    return found and found.group(1)


def test_market_buy_shows_the_ask_and_the_hold_apart(customer, account):
    html = preview(customer, account)  # the pinned market: last 100.00, ask 100.01
    assert figure(html, "preview-price") == "$100.01"
    assert "the ask now" in html
    assert figure(html, "preview-principal") == "$1,000.10"
    assert figure(html, "preview-total") == "$1,001.10"  # and the $1 commission
    # The hold: 10 x (100.01 + 5%) + commission, labelled, never called the price.
    assert figure(html, "preview-hold-amount") == "$1,051.11"
    assert "Held from your buying power until it fills" in html
    assert "10 × $105.0105 (the ask plus 5%" in html
    assert "It is not the price you pay" in html
    assert not Order.objects.exists()


def test_market_sale_shows_the_bid_and_holds_nothing(customer, account):
    html = preview(customer, account, side="sell")
    assert figure(html, "preview-price") == "$99.99"
    assert "the bid now" in html
    assert 'data-testid="preview-hold"' not in html
    proceeds = D(figure(html, "preview-total").strip("$").replace(",", ""))
    assert D("990") < proceeds < D("999.90")  # 999.90 less commission and fees
    assert "Shares you can sell" in html


def test_limit_buy_holds_what_it_may_cost(customer, account):
    html = preview(customer, account, order_type="limit", limit_price="99.50")
    assert figure(html, "preview-price") == "$99.50"
    assert "your limit price" in html
    assert figure(html, "preview-total") == "$996.00"
    assert figure(html, "preview-hold-amount") == "$996.00"
    assert "the ask plus" not in html


def test_the_hold_is_what_placing_holds(account):
    values = dict(symbol="ACME", side="buy", order_type="market", time_in_force="day", qty=10)
    shown = entry.preview_order(account, **values)
    order, _ = entry.place_order(account, account.holders.get(), **values)
    assert shown.hold == order.held_amount == D("1051.11")
    assert shown.price == D("100.01") and shown.price_basis == "ask"


def test_preview_says_when_buying_power_does_not_cover_the_hold(customer, account):
    html = preview(customer, account, qty="48")  # costs $4,801.48; holds $5,041.51
    assert figure(html, "preview-total") == "$4,801.48"
    assert "does not cover the hold" in html
    assert "Buy 48 ACME · Market · DAY" in html
    html = preview(customer, account, qty="10", order_type="stop", stop_price="101.00")
    assert "Buy 10 ACME · Stop $101.00 · DAY" in html
    assert "does not cover" not in html
