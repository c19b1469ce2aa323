"""Splits that leave a fraction of a share: the fraction paid in cash at the clearing
firm's price, the cost basis carried across the tax lots (the fraction's share of it a
disposal against the cash), the snapshots consistent across the ex-date, reverse splits
too; both books agree (docs/clearing.md, "Corporate actions")."""

import itertools
import logging
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse

from accounts.money import ledger
from accounts.money.models import JournalEntry
from tests.factories import StaffFactory
from trading.alpaca import portfolio
from trading.clearing import cycle
from trading.clearing.models import Break, ClearingActivity
from trading.market import market_data
from trading.market.models import DailyClose
from trading.orders import lots
from trading.orders.adjustments import adjust_position
from trading.orders.models import Execution, Position, PositionAdjustment
from trading.portfolio import valuation
from trading.reporting.models import AccountSnapshot
from trading.reporting.snapshots import take_snapshots
from trading.reporting.statistics import month_figures
from trading.simulation import clearing_firm

from .conftest import at_noon, open_account, sessions_back, trade

pytestmark = pytest.mark.django_db
D = Decimal


def run(days):
    for day, today in itertools.pairwise(days):
        cycle.evening(day)
        clearing_firm.answer(day)
        cycle.morning(today)


def cash_in_lieu(account):
    entry = JournalEntry.objects.filter(account=account, kind="cash_in_lieu").first()
    return entry and entry.postings.get(ledger_account__account=account)


def test_three_for_two_pays_the_half_share_in_cash(acme, client):
    s0, s1, s2 = sessions_back(3)
    account = open_account(opened_at=at_noon(s0) - timedelta(days=3))
    trade(account, "buy", 2, "100.00", "L1", executed_at=at_noon(s0))
    trade(account, "buy", 3, "90.00", "L2", executed_at=at_noon(s0) + timedelta(minutes=5))
    before = lots.replay(account)
    basis = sum(lot.cost for lot in before.open_lots(acme.pk))
    avg_cost = Position.objects.get(account=account, security=acme).avg_cost
    clearing_firm.announce_split("ACME", 3, 2, ex_date=s1, cash_in_lieu_price=D("60.00"))
    DailyClose.objects.create(security=acme, date=s0, close=D("90.00"))
    DailyClose.objects.create(security=acme, date=s1, close=D("60.00"))

    run([s0, s1, s2])

    # 5 shares -> 7 and half a share paid at $60.00: $30.00, settling on the pay date.
    position = Position.objects.get(account=account, security=acme)
    assert position.qty == 7
    assert position.avg_cost == (avg_cost * 2 / 3).quantize(D("0.0001"))
    split = PositionAdjustment.objects.get(account=account)
    assert (split.qty_change, split.fraction, split.cash_in_lieu) == (2, D("0.5"), D("30.00"))
    posting = cash_in_lieu(account)
    assert posting.amount == D("30.00") and posting.settles_on == s1
    assert ledger.verify_balances() == []

    # The clearing firm paid the same; the books agree.
    assert ClearingActivity.objects.get(activity_type="CIL").net_amount == D("30.00")
    assert list(Break.objects.values_list("kind", "account_number")) == []

    # The lots: 3 and 4 shares, dates kept; the half share is a disposal of the newest
    # lot's, and lots plus disposal still carry the whole basis.
    book = lots.replay(account)
    open_lots = book.open_lots(acme.pk)
    assert [(lot.remaining, lot.acquired_on) for lot in open_lots] == [(3, s0), (4, s0)]
    assert not any(lot.unknown_basis for lot in open_lots)
    [disposal] = book.disposals
    assert disposal.qty == D("0.5") and disposal.proceeds == D("30.00")
    assert disposal.sold_on == s1 and disposal.lot_execution_id == open_lots[1].execution_id
    assert sum(lot.cost for lot in open_lots) + disposal.cost_basis == basis
    assert open_lots[0].cost == before.open_lots(acme.pk)[0].cost

    # Snapshots across the ex-date: 5 x $90 before, 7 x $60 after (plus the cash): the
    # split is no change in value; the month's shares traded are the fills only.
    take_snapshots(s0)
    take_snapshots(s1)
    snap = {s.date: s for s in AccountSnapshot.objects.filter(account=account)}
    assert snap[s0].market_value == D("450.00") and snap[s1].market_value == D("420.00")
    assert snap[s1].cash - snap[s0].cash == D("30.00")  # 5 x 90 = 7 x 60 + 30
    assert snap[s1].equity == snap[s0].equity
    figures = month_figures(s1.replace(day=1))
    assert figures.shares_traded == sum(Execution.objects.values_list("qty", flat=True))

    # Trading API: the split and the cash.
    kinds = {a["activity_type"]: a for a in portfolio.activities(account)}
    assert kinds["SPLIT"]["qty"] == "2" and D(kinds["CIL"]["net_amount"]) == D("30.00")

    # Realized gains: the half share, sold for its cash.
    client.force_login(account.holders.get())
    csv = client.get(f"/account/{account.account_number}/gains/{s1.year}.csv").content.decode()
    assert '"0.5 sh. ACME (Acme Corp), cash in lieu",ACME,0.5,' in csv
    page = client.get(f"/account/{account.account_number}/gains/?year={s1.year}")
    assert ">0.5<" in page.content.decode().replace(" ", "")


def test_reverse_split(acme):
    s0, s1, s2 = sessions_back(3)
    paid = open_account(opened_at=at_noon(s0) - timedelta(days=3))
    trade(paid, "buy", 25, "100.00", "R1", executed_at=at_noon(s0))
    paid_basis = sum(lot.cost for lot in lots.replay(paid).open_lots(acme.pk))
    avg_before = Position.objects.get(account=paid, security=acme).avg_cost
    clearing_firm.announce_split("ACME", 1, 10, ex_date=s1, cash_in_lieu_price=D("1000.00"))

    run([s0, s1, s2])

    # 1-for-10 on 25: 2 shares and half a share at $1,000.00 = $500.00.
    position = Position.objects.get(account=paid, security=acme)
    assert position.qty == 2 and cash_in_lieu(paid).amount == D("500.00")
    book = lots.replay(paid)
    [lot] = book.open_lots(acme.pk)
    [disposal] = book.disposals
    assert lot.remaining == 2 and lot.cost + disposal.cost_basis == paid_basis
    assert disposal.cost_basis == (paid_basis / 5).quantize(D("0.01"))  # 0.5 of 2.5 shares
    assert position.avg_cost == avg_before * 10
    assert list(Break.objects.values_list("kind", "account_number")) == []


def test_a_split_without_a_cash_in_lieu_price_drops_the_fraction_with_a_warning(
    acme, caplog, client
):
    s0, s1, s2 = sessions_back(3)
    account = open_account(opened_at=at_noon(s0) - timedelta(days=3))
    trade(account, "buy", 5, "90.00", "N1", executed_at=at_noon(s0))
    basis = sum(lot.cost for lot in lots.replay(account).open_lots(acme.pk))
    clearing_firm.announce_split("ACME", 3, 2, ex_date=s1)

    with caplog.at_level(logging.WARNING, logger="trading.clearing.corporate_actions"):
        run([s0, s1, s2])

    assert Position.objects.get(account=account, security=acme).qty == 7
    assert cash_in_lieu(account) is None
    assert any(
        account.account_number in r.getMessage() and "no cash in lieu price" in r.getMessage()
        for r in caplog.records
        if r.levelname == "WARNING"
    )
    book = lots.replay(account)
    assert book.disposals == []
    assert sum(lot.cost for lot in book.open_lots(acme.pk)) == basis  # the basis stays
    # Staff see the dropped fraction with no cash in admin → Position adjustments.
    client.force_login(StaffFactory())
    page = client.get(reverse("admin:trading_positionadjustment_changelist")).content.decode()
    assert "0.500000" in page and account.account_number in page
    assert list(Break.objects.values_list("kind", "account_number")) == []


def test_a_split_since_the_previous_close_is_no_day_change(acme, market):
    account = open_account()
    DailyClose.objects.create(
        security=acme, date=market_data.quote_session()[0].previous, close=D("100.00")
    )
    overnight = market_data.previous_close_time() - timedelta(hours=1)
    trade(account, "buy", 10, "99.00", "O1", executed_at=overnight)
    adjust_position(
        account,
        acme,
        kind=PositionAdjustment.Kind.SPLIT,
        ratio=Fraction(2, 1),
        reference="split:day-change",
        effective_on=market_data.quote_session()[0].day,
        description="ACME 2-for-1 split",
    )
    market.last["ACME"] = D("50.50")

    (holding,) = valuation.portfolio(account).holdings

    # Against the previous close in today's shares ($50.00), not $100.00: +$0.50 a share.
    assert holding.qty == 20 and holding.previous_close == D("50.0000")
    assert holding.day_change == D("10.00")
    assert holding.start_value == D("1000.00")  # what the 10 shares were worth at the close
