"""The demo customer's first login shows a lived-in account (issue 15, point 2): two
years of deposits, trades, daily values, statements and confirmations, with a sound
ledger, made once."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.money import ledger
from accounts.money.models import TransferStatus
from accounts.users.models import User
from trading.reporting.models import AccountSnapshot
from trading.reporting.snapshots import take_snapshots, trading_days
from trading.simulation.demo import CUSTOMER_EMAIL, ensure_demo_users

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password-for-test"


@pytest.fixture
def demo():
    ensure_demo_users(PASSWORD)
    user = User.objects.get(email=CUSTOMER_EMAIL)
    client = Client()
    client.force_login(user)
    return user, user.accounts.get(), client


def test_demo_account_is_two_years_old_with_a_sound_ledger(demo):
    _user, account, _ = demo
    today = timezone.localdate()
    opened = timezone.localtime(account.opened_at).date()
    assert timedelta(days=700) < today - opened < timedelta(days=760)
    assert account.application.decided_at == account.opened_at
    assert account.orders.filter(status="filled").count() == account.orders.count() > 20
    assert account.orders.filter(side="sell").exists()
    assert account.positions.exclude(qty=0).count() >= 5
    transfers = account.transfers.all()
    assert transfers.count() > 20
    assert {t.status for t in transfers} == {TransferStatus.COMPLETED}
    assert transfers.filter(direction="withdrawal").exists()
    assert ledger.verify_balances() == []
    balances = ledger.balances(account)
    assert balances.cash > 0 and balances.holds == 0


def test_a_value_at_every_close_agrees_with_the_snapshot_job(demo):
    _, account, _ = demo
    snapshots = AccountSnapshot.objects.filter(account=account).order_by("date")
    first, last = snapshots.first(), snapshots.last()
    assert snapshots.count() == len(trading_days(first.date, last.date))
    assert first.equity == first.net_transfers == 20000
    kept = {s.date: (s.cash, s.market_value, s.equity, s.net_transfers) for s in snapshots}
    for day in (first.date, list(kept)[len(kept) // 2], last.date):
        take_snapshots(day)  # the nightly job, recomputing from the ledger and the fills
        again = AccountSnapshot.objects.get(account=account, date=day)
        assert (again.cash, again.market_value, again.equity, again.net_transfers) == kept[day]


def test_first_login_shows_chart_positions_activity_and_documents(demo):
    _, account, client = demo
    overview = client.get(reverse("account-overview", args=[account.account_number]))
    html = overview.content.decode()
    assert "<polyline" in html  # the account value chart
    assert html.count('data-testid="position-') >= 5
    postings = list(ledger.cash_postings(account)[:10])
    assert all(p.entry.created_at.date() < timezone.localdate() for p in postings)
    assert html.count('data-testid="activity-row"') == 10
    year = client.get(reverse("account-overview", args=[account.account_number]), {"period": "1Y"})
    assert "<polyline" in year.content.decode()

    documents = client.get(reverse("account-documents", args=[account.account_number]))
    assert documents.content.decode().count('data-testid="statement"') == 25
    transfers = client.get(reverse("account-transfers", args=[account.account_number]))
    assert transfers.content.decode().count("Completed") > 20


def test_made_once(demo):
    user, account, _ = demo
    orders, cash = account.orders.count(), ledger.balances(account).cash
    ensure_demo_users(PASSWORD)
    assert user.accounts.get() == account
    assert account.orders.count() == orders and ledger.balances(account).cash == cash


def test_without_history_the_demo_customer_gets_one_deposit():
    ensure_demo_users(PASSWORD, history=False)
    account = User.objects.get(email=CUSTOMER_EMAIL).accounts.get()
    assert ledger.balances(account).cash == 25000
    assert not account.orders.exists()
