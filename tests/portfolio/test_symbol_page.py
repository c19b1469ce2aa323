"""A page per symbol: chart (intraday and daily from the market data provider), quote,
the customer's own position and orders in it (never another's), buy and sell buttons to
the prefilled ticket."""

import json
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, SecurityFactory, UserFactory, fund
from trading.market import market_data
from trading.market.models import DailyClose
from trading.market.price_history import daily, intraday
from trading.orders import entry
from trading.orders.models import Position

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def chart_of(html: str) -> dict:
    found = re.search(
        r'<script id="symbol-chart-data" type="application/json">(.*?)</script>', html
    )
    return json.loads(found.group(1))


def test_intraday_series_follows_the_provider_through_the_session():
    security = SecurityFactory(symbol="WALK")
    noon = datetime(2025, 3, 12, 12, 0, tzinfo=NY)  # a Wednesday, market open
    series = intraday(security, at=noon)
    assert series.intraday and series.market_open and series.session_day == date(2025, 3, 12)
    # The previous close, then every 5 minutes from 9:30 to noon (30 steps), then now.
    assert len(series.points) == 1 + 30 + 1
    assert (
        series.points[0].price
        == market_data.provider().session_close(security, date(2025, 3, 11))[0]
    )
    at_ten = market_data.provider().quote(security, datetime(2025, 3, 12, 10, 0, tzinfo=NY))
    assert series.points[1 + 6].price == at_ten.last


def test_intraday_after_the_close_shows_the_whole_session():
    security = SecurityFactory(symbol="WALK")
    evening = datetime(2025, 3, 12, 20, 0, tzinfo=NY)
    series = intraday(security, at=evening)
    assert not series.market_open
    # The previous close, 6.5 hours in 5-minute steps, and the close.
    assert len(series.points) == 1 + 78 + 1
    assert series.last == market_data.provider().session_close(security, date(2025, 3, 12))[0]


def test_daily_series_prefers_stored_closes():
    security = SecurityFactory(symbol="WALK")
    DailyClose.objects.create(security=security, date=date(2025, 3, 10), close=Decimal("12.34"))
    series = daily(security, 31, at=datetime(2025, 3, 15, 12, 0, tzinfo=NY))  # a Saturday
    days = [p.at for p in series.points]
    assert days[-1] == date(2025, 3, 14) and date(2025, 3, 8) not in days  # sessions only
    assert dict((p.at, p.price) for p in series.points)[date(2025, 3, 10)] == Decimal("12.34")
    assert 20 <= len(days) <= 23


@pytest.fixture
def holder(acme):
    user = UserFactory()
    account = AccountFactory(holder=user)
    fund(account, Decimal("10000.00"))
    Position.objects.create(account=account, security=acme, qty=30, avg_cost=Decimal("90.00"))
    entry.place_order(
        account,
        user,
        symbol="ACME",
        side="buy",
        order_type="limit",
        limit_price="95.00",
        time_in_force="gtc",
        qty=7,
    )
    return user, account


def test_the_page_shows_the_customers_position_orders_and_trade_buttons(client, holder):
    user, account = holder
    client.force_login(user)
    for range_ in ("1D", "1M", "1Y"):
        page = client.get(reverse("symbol", args=["acme"]), {"range": range_})
        assert page.status_code == 200
        html = page.content.decode()
        data = chart_of(html)
        assert len(data["labels"]) == len(data["prices"]) >= 2
        assert data["intraday"] is (range_ == "1D")
    assert 'data-testid="quote-ACME"' in html
    assert html.count('data-testid="symbol-position"') == 1 and "$300.00" in html  # (100-90)*30
    assert html.count('data-testid="symbol-order"') == 1 and "Buy 7 ACME" in html
    ticket = reverse("account-trade", args=[account.account_number])
    assert f"{ticket}?symbol=ACME&amp;side=buy" in html
    assert f"{ticket}?symbol=ACME&amp;side=sell" in html
    prefilled = client.get(ticket, {"symbol": "ACME", "side": "sell"}).content.decode()
    assert 'value="ACME"' in prefilled


def test_another_customer_sees_none_of_it(client, holder):
    _, account = holder
    other = UserFactory()
    AccountFactory(holder=other)
    client.force_login(other)
    html = client.get(reverse("symbol", args=["ACME"])).content.decode()
    assert 'data-testid="no-position"' in html
    assert 'data-testid="symbol-order"' not in html
    assert account.account_number not in html
    assert 'data-testid="sell"' not in html


def test_unknown_symbol_is_404_and_bad_range_falls_back(client, holder):
    user, _ = holder
    client.force_login(user)
    assert client.get(reverse("symbol", args=["NOPE"])).status_code == 404
    page = client.get(reverse("symbol", args=["ACME"]), {"range": "<script>"})
    assert page.status_code == 200 and chart_of(page.content.decode())["intraday"] is True


def test_needs_a_login(client, acme):
    assert client.get(reverse("symbol", args=["ACME"])).status_code == 302
