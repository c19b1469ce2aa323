"""The order ticket defaults to a market order and asks for the limit and stop prices only
for the order types that use them (issue 15, point 10)."""

import re

import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from trading.orders.forms import OrderTicketForm

pytestmark = pytest.mark.django_db


def wrapper_of(html: str, name: str) -> str:
    match = re.search(
        r'<div data-show-when="([^"]*)"( hidden)?>\s*<div class="mb-3">\s*<label[^>]*for="id_'
        + name,
        html,
    )
    assert match, f"{name} is not a conditional field"
    return match.group(0)


def test_the_ticket_opens_on_market_with_no_price_fields_shown(client):
    account = AccountFactory()
    client.force_login(account.holders.get())
    html = client.get(reverse("account-trade", args=[account.account_number])).content.decode()
    assert re.search(r'<option value="market" selected>Market</option>', html)
    limit, stop = wrapper_of(html, "limit_price"), wrapper_of(html, "stop_price")
    assert " hidden>" in limit and " hidden>" in stop
    assert 'data-show-when="order_type=limit stop_limit"' in limit
    assert 'data-show-when="order_type=stop stop_limit"' in stop


@pytest.mark.parametrize(
    ("order_type", "limit_kept", "stop_kept"),
    [
        ("market", False, False),
        ("limit", True, False),
        ("stop", False, True),
        ("stop_limit", True, True),
    ],
)
def test_prices_count_only_for_the_types_that_use_them(order_type, limit_kept, stop_kept):
    form = OrderTicketForm(
        {
            "symbol": "ACME",
            "side": "buy",
            "qty": "1",
            "order_type": order_type,
            "limit_price": "90.00",
            "stop_price": "95.00",
            "time_in_force": "day",
            "client_order_id": "x1",
        }
    )
    assert form.is_valid(), form.errors
    values = form.order_values()
    assert (values["limit_price"] is not None, values["stop_price"] is not None) == (
        limit_kept,
        stop_kept,
    )
