"""An account that has not traded yet shows a first-run guide: fund it, then place an
order; with no money it does not offer "Place an order" (issue 15, point 8)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, fund
from trading.orders import entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    account = AccountFactory()
    client.force_login(account.holders.get())
    client.account = account
    return client


def overview(client):
    return client.get(reverse("account-overview", args=[client.account.account_number]))


def test_an_empty_account_shows_the_guide_starting_with_funding(customer):
    html = overview(customer).content.decode()
    number = customer.account.account_number
    assert 'data-testid="first-run"' in html
    guide = html[
        html.index('data-testid="first-run"') : html.index(
            "</section>", html.index('data-testid="first-run"')
        )
    ]
    assert f'href="{reverse("account-transfers", args=[number])}"' in guide
    assert "Fund your account" in guide
    assert f'href="{reverse("account-trade", args=[number])}"' not in guide
    # The positions table does not send a customer with $0 to the ticket either.
    positions = html[html.index('data-testid="no-positions"') :][:400]
    assert "Place an order" not in positions and "Fund your account" in positions


def test_once_funded_the_guide_leads_to_the_first_order_and_then_goes(customer, acme):
    account = customer.account
    fund(account, Decimal("5000.00"))
    html = overview(customer).content.decode()
    guide = html[html.index('data-testid="first-run"') :][:3000]
    assert f'href="{reverse("account-trade", args=[account.account_number])}"' in guide
    assert "Done: you have money to trade with." in guide
    entry.place_order(
        account,
        account.holders.get(),
        symbol="ACME",
        side="buy",
        order_type="limit",
        time_in_force="day",
        qty="1",
        limit_price="90.00",
    )
    assert 'data-testid="first-run"' not in overview(customer).content.decode()
