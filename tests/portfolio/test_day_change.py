"""Day change (issue 15, point 3): shares bought since the previous close count from
the price paid, not from the previous close; the account's day change is its equity's
change since the close, net of deposits and withdrawals, so it agrees with the equity."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.money import ledger
from tests.factories import AccountFactory, filled_order, fund
from trading.market import market_data
from trading.market.models import DailyClose
from trading.orders.models import Position
from trading.portfolio import valuation

pytestmark = pytest.mark.django_db
D = Decimal


def previous_close(security, close):
    day = market_data.quote_session()[0].previous
    DailyClose.objects.create(security=security, date=day, close=D(close))


def fill(account, side, qty, price, exec_id):
    filled_order(account, side, qty, price, exec_id)


def _client_for(account) -> Client:
    client = Client()
    client.force_login(account.holders.get())
    return client


def consistent(held: valuation.Portfolio, cash_at_close: D, start_value: D, transfers: D):
    """Equity less the day change is what the account was worth at the close plus what
    was deposited since."""
    assert held.equity - held.day_change == cash_at_close + start_value + transfers


def test_shares_bought_today_count_from_the_price_paid(acme, market):
    """The issue's case: against yesterday's close, +$10.60 in green; truly -$1.50."""
    account = AccountFactory()
    fund(account, D("3000.00"))
    previous_close(acme, "98.94")
    fill(account, "buy", 10, "100.15", "E1")
    market.last["ACME"] = D("100.00")

    held = valuation.portfolio(account)
    (position,) = held.holdings
    assert position.day_change == D("-1.50")  # (100.00 - 100.15) x 10
    assert position.day_change_pct == D("-0.15")
    # The account: the position's -1.50 and the $1.00 commission; equity is below the deposit.
    assert held.day_change == D("-2.50")
    assert held.equity == D("2997.50")
    consistent(held, D("0.00"), D("0.00"), D("3000.00"))

    html = (
        _client_for(account)
        .get(reverse("account-overview", args=[account.account_number]))
        .content.decode()
    )
    assert 'data-testid="day-change">−$2.50' in html
    assert "+$10.60" not in html


def test_added_to_a_position_held_overnight(acme, market):
    account = AccountFactory()
    fund(account, D("5000.00"))
    Position.objects.create(account=account, security=acme, qty=10, avg_cost=D("90"))
    previous_close(acme, "95.00")
    cash_at_close = ledger.balances(account).cash
    fill(account, "buy", 5, "101.00", "E1")
    market.last["ACME"] = D("100.00")

    held = valuation.portfolio(account)
    (position,) = held.holdings
    assert position.qty == 15
    assert position.day_change == D("45.00")  # 10 x (100 - 95) + 5 x (100 - 101)
    assert position.day_change_pct == D("3.09")  # 45 / (950 + 505)
    assert held.day_change == D("44.00")  # less the $1.00 commission
    consistent(held, cash_at_close - D("5000.00"), D("950.00"), D("5000.00"))


def test_sold_some_today(acme, market):
    account = AccountFactory()
    fund(account, D("1000.00"))
    Position.objects.create(account=account, security=acme, qty=10, avg_cost=D("90"))
    previous_close(acme, "95.00")
    fill(account, "sell", 4, "99.00", "E1")
    market.last["ACME"] = D("100.00")

    held = valuation.portfolio(account)
    (position,) = held.holdings
    assert position.day_change == D("30.00")  # the 6 shares left, 100 - 95 each
    proceeds = ledger.balances(account).cash - D("1000.00")  # 396 less commission and fees
    assert held.day_change == D("600.00") + proceeds - D("950.00")
    consistent(held, D("0.00"), D("950.00"), D("1000.00"))


def test_sold_out_today(acme, market):
    account = AccountFactory()
    fund(account, D("1000.00"))
    Position.objects.create(account=account, security=acme, qty=10, avg_cost=D("90"))
    previous_close(acme, "95.00")
    fill(account, "sell", 10, "97.00", "E1")
    market.last["ACME"] = D("100.00")

    held = valuation.portfolio(account)
    assert held.holdings == []
    proceeds = ledger.balances(account).cash - D("1000.00")
    assert held.day_change == proceeds - D("950.00")  # 2 a share gained, less the charges
    assert D("0") < held.day_change < D("20.00")
    consistent(held, D("0.00"), D("950.00"), D("1000.00"))


def test_bought_and_sold_today_is_the_realized_difference(acme, market):
    account = AccountFactory()
    fund(account, D("2000.00"))
    previous_close(acme, "90.00")
    fill(account, "buy", 10, "100.00", "E1")
    fill(account, "sell", 10, "102.00", "E2")
    market.last["ACME"] = D("105.00")

    held = valuation.portfolio(account)
    assert held.holdings == []
    assert held.day_change == ledger.balances(account).cash - D("2000.00")  # +20 less charges
    consistent(held, D("0.00"), D("0.00"), D("2000.00"))


def test_deposits_and_withdrawals_are_not_gains(acme, market):
    account = AccountFactory()
    fund(account, D("1000.00"))
    fund(account, D("500.00"))
    held = valuation.portfolio(account)
    assert held.day_change == 0 and held.day_change_pct == 0
