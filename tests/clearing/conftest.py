"""Shared set-up of the clearing tests: drop folders under tmp_path, a security, trades
applied through the order path."""

from datetime import datetime, time
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from tests.factories import AccountFactory, filled_order, fund
from trading.market.calendar import nyse
from trading.market.models import Security
from trading.orders.models import Execution

D = Decimal


@pytest.fixture(autouse=True)
def clearing_dirs(settings, tmp_path):
    settings.CLEARING_OUTBOX_DIR = tmp_path / "outbox"
    settings.CLEARING_INBOX_DIR = tmp_path / "inbox"
    settings.CLEARING_SIMULATOR_DIR = tmp_path / "firm"
    return tmp_path


@pytest.fixture
def acme(market):
    market.last["ACME"] = D("100.00")
    return Security.objects.create(
        symbol="ACME",
        name="Acme Corp",
        exchange="NYSE",
        reference_price=D("100"),
        isin="US0000000001",
    )


def sessions_back(count: int) -> list[pd.Timestamp]:
    """The last `count` NYSE sessions before today, oldest first."""
    calendar = nyse()
    today = pd.Timestamp(timezone.localdate())
    last = calendar.date_to_session(today, "previous")
    if last == today:
        last = calendar.previous_session(today)
    return [calendar.session_offset(last, -i).date() for i in range(count - 1, -1, -1)]


def at_noon(day) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=timezone.get_current_timezone())


def open_account(opened_at=None, cash="10000.00"):
    account = AccountFactory(opened_at=opened_at or timezone.now())
    if cash:
        fund(account, D(cash))
    return account


def trade(account, side, qty, price, exec_id, executed_at=None, symbol="ACME") -> Execution:
    return filled_order(account, side, qty, price, exec_id, executed_at, symbol)
