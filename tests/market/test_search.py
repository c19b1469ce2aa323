"""Finding a stock from what a person types (issue 15, point 10: "Tesla" was not found,
"APPL" got no suggestion): symbols, company names, and either with a typo."""

import pytest
from django.urls import reverse

from tests.factories import SecurityFactory, UserFactory
from trading.market.models import Security
from trading.market.search import find_securities, resolve_symbol

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed():
    for symbol, name in [
        ("AAPL", "Apple Inc."),
        ("AMAT", "Applied Materials, Inc."),
        ("APP", "AppLovin Corporation"),
        ("PPL", "PPL Corporation"),
        ("TSLA", "Tesla, Inc."),
        ("MSFT", "Microsoft Corporation"),
        ("BAC", "Bank of America Corporation"),
        ("A", "Agilent Technologies, Inc."),
        ("AA", "Alcoa Corporation"),
        ("T", "AT&T Inc."),
    ]:
        SecurityFactory(symbol=symbol, name=name)
    SecurityFactory(symbol="GONE", name="Gone Away Corp.", status=Security.Status.INACTIVE)


def symbols(text, limit=10):
    return [m.security.symbol for m in find_securities(text, limit)]


def test_exact_symbol_first_then_prefixes(listed):
    assert symbols("a")[:2] == ["A", "AA"]
    assert symbols("AAPL")[0] == "AAPL"
    assert resolve_symbol("aapl").symbol == "AAPL"


@pytest.mark.parametrize(
    "text, expected",
    [("Tesla", "TSLA"), ("tesla inc", "TSLA"), ("apple", "AAPL"), ("bank of am", "BAC")],
)
def test_company_names(listed, text, expected):
    assert symbols(text)[0] == expected
    assert resolve_symbol(text).symbol == expected


@pytest.mark.parametrize(
    "text, expected", [("APPL", "AAPL"), ("TSAL", "TSLA"), ("Microsfot", "MSFT"), ("Telsa", "TSLA")]
)
def test_typos_find_the_intended_stock(listed, text, expected):
    assert symbols(text)[0] == expected


def test_inactive_and_nonsense_find_nothing(listed):
    assert symbols("GONE") == []
    assert symbols("zzqx") == []
    assert symbols("") == [] and symbols("   ") == []
    assert len(symbols("x" * 500)) == 0


def test_the_search_page_goes_to_the_stock_or_lists_the_candidates(client, listed):
    client.force_login(UserFactory())
    url = reverse("search")
    straight = client.get(url, {"q": "Tesla"})
    assert straight.status_code == 302 and straight["Location"] == reverse("symbol", args=["TSLA"])
    assert client.get(url, {"q": "msft"})["Location"] == reverse("symbol", args=["MSFT"])
    typo = client.get(url, {"q": "APPL"})
    assert typo.status_code == 200
    html = typo.content.decode()
    did_you_mean = html.split('data-testid="did-you-mean"')[1].split("</p>")[0]
    assert reverse("symbol", args=["AAPL"]) in did_you_mean
    assert html.index("/symbols/AAPL/") < html.index("/symbols/AMAT/")
    nothing = client.get(url, {"q": "zzqx"})
    assert nothing.status_code == 200 and b'data-testid="no-results"' in nothing.content
    suggestions = client.get(reverse("search-suggest"), {"q": "tesl"}).content.decode()
    assert '<option value="TSLA">Tesla, Inc.</option>' in suggestions


def test_search_needs_a_login(client, listed):
    assert client.get(reverse("search"), {"q": "AAPL"}).status_code == 302
    assert "/login" in client.get(reverse("search-suggest"), {"q": "A"})["Location"]
