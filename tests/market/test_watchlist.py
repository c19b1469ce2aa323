"""The watchlist: add, remove, live quotes; only the customer's own; bad input said."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory
from trading.market.models import Security, WatchlistItem
from trading.market.watchlist import default_watchlist

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def customer(client):
    user = UserFactory()
    client.force_login(user)
    client.user = user
    return client


def make(symbol, market, last="50.00"):
    market.last[symbol] = D(last)
    return Security.objects.create(
        symbol=symbol, name=f"{symbol} Corp", exchange="NYSE", reference_price=D(last)
    )


def test_add_see_quote_remove(customer, market):
    make("ACME", market, "100.00")
    url = reverse("watchlist")
    assert customer.post(url, {"symbol": " acme ", "action": "add"}).status_code == 302
    assert customer.post(url, {"symbol": "ACME", "action": "add"}).status_code == 302  # again: once
    assert WatchlistItem.objects.filter(user=customer.user).count() == 1
    html = customer.get(url).content.decode()
    assert 'data-testid="watch-ACME"' in html and 'data-testid="last">$100.00' in html
    market.last["ACME"] = D("101.50")
    partial = customer.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'data-testid="last">$101.50' in partial
    assert customer.post(url, {"symbol": "ACME", "action": "remove"}).status_code == 200
    assert not WatchlistItem.objects.exists()


def test_bad_symbols_are_said(customer, market, settings):
    url = reverse("watchlist")
    response = customer.post(url, {"symbol": "NOPE", "action": "add"})
    assert response.status_code == 400
    assert "No security with the symbol or name “NOPE”." in response.content.decode()
    assert customer.post(url, {"symbol": "", "action": "add"}).status_code == 400
    settings.WATCHLIST_MAX_SYMBOLS = 2
    for symbol in ("AAA", "BBB", "CCC"):
        make(symbol, market)
    customer.post(url, {"symbol": "AAA"})
    customer.post(url, {"symbol": "BBB"})
    full = customer.post(url, {"symbol": "CCC"})
    assert full.status_code == 400 and "at most 2 symbols" in full.content.decode()
    assert not WatchlistItem.objects.filter(security__symbol="CCC").exists()


def test_only_ones_own_and_queries_bounded(customer, market):
    other = UserFactory()
    securities = [make(f"W{i}", market) for i in range(30)]
    WatchlistItem.objects.create(
        user=other, watchlist=default_watchlist(other), security=securities[0]
    )
    url = reverse("watchlist")
    assert 'data-testid="watch-W0"' not in customer.get(url).content.decode()

    first = default_watchlist(customer.user)

    def queries(n):
        WatchlistItem.objects.filter(user=customer.user).delete()
        WatchlistItem.objects.bulk_create(
            WatchlistItem(user=customer.user, watchlist=first, security=s) for s in securities[:n]
        )
        customer.get(url, HTTP_HX_REQUEST="true")
        with CaptureQueriesContext(connection) as captured:
            html = customer.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert html.count('data-testid="watch-') == n
        return len(captured)

    assert queries(3) == queries(30)


def test_needs_login(client):
    assert client.get(reverse("watchlist")).status_code == 302
