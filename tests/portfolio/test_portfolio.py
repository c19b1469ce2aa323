"""The customer's asset pages: an account's overview at live prices, its value history,
the combined view of several accounts; a bounded number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountFactory, fund
from trading.market import market_data
from trading.market.models import DailyClose, Security
from trading.orders.models import Position
from trading.portfolio import valuation
from trading.reporting.models import AccountSnapshot

pytestmark = pytest.mark.django_db
D = Decimal


def previous_session():
    return market_data.quote_session()[0].previous


def hold(account, symbol, qty, avg_cost, last, previous_close, market):
    security = Security.objects.create(
        symbol=symbol, name=f"{symbol} Inc", exchange="NYSE", reference_price=D(last)
    )
    market.last[symbol] = D(last)
    DailyClose.objects.create(security=security, date=previous_session(), close=D(previous_close))
    return Position.objects.create(
        account=account, security=security, qty=qty, avg_cost=D(avg_cost)
    )


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("10000.00"))
    return account


@pytest.fixture
def customer(client, account):
    client.force_login(account.holders.get())
    return client


def test_portfolio_figures(account, market):
    hold(account, "ACME", 10, "90.00", "100.00", "95.00", market)
    hold(account, "BOLT", 4, "50.00", "45.00", "50.00", market)
    held = valuation.portfolio(account)
    acme, bolt = held.holdings
    assert (acme.market_value, acme.day_change, acme.day_change_pct) == (
        D("1000.00"),
        D("50.00"),
        D("5.26"),
    )
    assert (acme.unrealized, acme.unrealized_pct) == (D("100.00"), D("11.11"))
    assert (bolt.market_value, bolt.day_change, bolt.unrealized) == (
        D("180.00"),
        D("-20.00"),
        D("-20.00"),
    )
    assert held.market_value == D("1180.00")
    assert held.equity == D("11180.00")  # $10,000 cash (positions made directly, not bought)
    assert held.day_change == D("30.00")
    assert held.day_change_pct == D("0.27")  # 30 / (11,180 - 30)
    assert held.unrealized == D("80.00")
    assert [label for label, _, _ in held.allocation] == ["Cash", "ACME", "BOLT"]
    assert held.allocation[0][2] == D("89.45")


def test_overview_page_and_live_partial(customer, account, market):
    hold(account, "ACME", 10, "90.00", "100.00", "95.00", market)
    url = reverse("account-overview", args=[account.account_number])
    html = customer.get(url).content.decode()
    assert 'data-testid="equity">$11,000.00' in html
    assert 'data-testid="day-change">+$50.00' in html
    assert 'data-testid="position-ACME"' in html
    assert 'data-testid="unrealized">+$100.00' in html
    market.last["ACME"] = D("80.00")
    partial = customer.get(reverse("account-portfolio", args=[account.account_number]))
    fragment = partial.content.decode()
    assert "<html" not in fragment and 'hx-trigger="rt:refresh, every 15s"' in fragment
    assert 'data-testid="market-value">$800.00' in fragment
    assert 'data-testid="unrealized">−$100.00' in fragment
    assert 'data-testid="day-change">−$150.00' in fragment


def test_overview_queries_do_not_grow_with_positions(customer, account, market):
    def queries(n):
        securities = Security.objects.bulk_create(
            Security(symbol=f"S{n}X{i}", name="S", exchange="NYSE", reference_price=D("10"))
            for i in range(n)
        )
        for security in securities:
            market.last[security.symbol] = D("10.00")
        other = AccountFactory(holder=account.holders.get())
        Position.objects.bulk_create(
            Position(account=other, security=s, qty=1, avg_cost=D("9")) for s in securities
        )
        customer.get(reverse("account-overview", args=[other.account_number]))  # warm the cache
        with CaptureQueriesContext(connection) as captured:
            response = customer.get(reverse("account-overview", args=[other.account_number]))
        assert response.status_code == 200
        assert response.content.decode().count('data-testid="position-') == n
        return len(captured)

    assert queries(5) == queries(500)


def test_history_chart_from_snapshots(customer, account, market):
    today = timezone.localdate()
    for days, equity in ((40, "9000"), (20, "9500"), (10, "9800"), (1, "10200")):
        AccountSnapshot.objects.create(
            account=account,
            date=today - timedelta(days=days),
            cash=D(equity),
            market_value=D("0"),
            equity=D(equity),
            net_transfers=D("10000"),
        )
    series = valuation.history(account, "1M")
    assert [equity for _, equity, _ in series] == [D("9500"), D("9800"), D("10200")]
    assert series[-1][2] == D("700")  # since the period began, transfers netted out
    assert len(valuation.history(account, "all")) == 4
    url = reverse("account-overview", args=[account.account_number])
    html = customer.get(url, {"period": "3M"}).content.decode()
    assert 'data-testid="history-chart"' in html and "low $9,000.00" in html
    assert 'aria-current="true" href="?period=3M"' in html
    assert customer.get(url, {"period": "bogus"}).status_code == 200


def test_new_account_has_no_chart_yet(customer, account):
    html = customer.get(reverse("account-overview", args=[account.account_number])).content.decode()
    assert 'data-testid="history-empty"' in html and "No positions." in html


def test_combined_view_and_switcher(customer, account, market):
    user = account.holders.get()
    second = AccountFactory(holder=user, account_type="individual_margin")
    fund(second, D("2500.00"))
    hold(second, "ACME", 10, "90.00", "100.00", "95.00", market)
    stranger = AccountFactory()
    fund(stranger, D("777.00"))
    html = customer.get(reverse("portfolio-combined")).content.decode()
    assert html.count('data-testid="combined-account"') == 2
    assert stranger.account_number not in html
    assert 'data-testid="total-equity">$13,500.00' in html
    assert 'data-testid="total-day-change">+$50.00' in html
    home = customer.get(reverse("home")).content.decode()  # the home after login
    assert home.count('data-testid="combined-account"') == 2
    assert 'data-testid="total-equity">$13,500.00' in home and stranger.account_number not in home
    overview = customer.get(reverse("account-overview", args=[account.account_number])).content
    assert (
        b'data-testid="account-switcher"' in overview and second.account_number.encode() in overview
    )
    response = customer.get(reverse("account-overview", args=[stranger.account_number]))
    assert response.status_code == 404
    partial = customer.get(reverse("account-portfolio", args=[stranger.account_number]))
    assert partial.status_code == 404
