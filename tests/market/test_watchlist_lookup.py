"""The watchlist box finds companies by name and suggests near misses (issue 15, point 10)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from trading.market.lookup import lookup_security
from trading.market.models import Security, WatchlistItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(db):
    for symbol, name in [
        ("AAPL", "Apple Inc."),
        ("TSLA", "Tesla, Inc."),
        ("MSFT", "Microsoft Corporation"),
        ("BAC", "Bank of America Corporation"),
        ("BK", "The Bank of New York Mellon Corporation"),
    ]:
        Security.objects.create(
            symbol=symbol, name=name, exchange="NASDAQ", reference_price=Decimal("100")
        )


@pytest.fixture
def customer(client):
    user = UserFactory()
    client.force_login(user)
    client.user = user
    return client


def test_a_company_name_adds_its_symbol(customer, listed):
    response = customer.post(reverse("watchlist"), {"symbol": "Tesla", "action": "add"})
    assert response.status_code == 302
    assert list(
        WatchlistItem.objects.filter(user=customer.user).values_list("security__symbol", flat=True)
    ) == ["TSLA"]
    customer.post(reverse("watchlist"), {"symbol": "microsoft", "action": "add"})
    assert WatchlistItem.objects.filter(user=customer.user, security__symbol="MSFT").exists()


def test_a_near_miss_is_suggested(customer, listed):
    response = customer.post(reverse("watchlist"), {"symbol": "APPL", "action": "add"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Did you mean AAPL (Apple Inc.)?" in html
    assert 'name="symbol" value="AAPL"' in html  # one click adds it
    assert not WatchlistItem.objects.exists()


def test_lookup_by_symbol_name_misspelling_and_ambiguity(listed):
    assert lookup_security("aapl").security.symbol == "AAPL"
    assert lookup_security("Apple").security.symbol == "AAPL"
    assert lookup_security("Telsa").security is None
    assert [s.symbol for s in lookup_security("Telsa").suggestions] == ["TSLA"]
    ambiguous = lookup_security("Bank")
    assert ambiguous.security is None and {s.symbol for s in ambiguous.suggestions} == {"BAC", "BK"}
    assert lookup_security("zzzzzz").suggestions == []
    assert lookup_security("").security is None
