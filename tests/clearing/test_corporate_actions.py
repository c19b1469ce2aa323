"""A cash dividend and a 2-for-1 split announced by the clearing firm flow through to
positions, cash, activity, the statement and the trading API; both books still agree
every day (docs/clearing.md, "Corporate actions")."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.money import ledger
from accounts.money.models import JournalEntry
from tests.reporting.test_documents import pdf_text
from trading.alpaca import portfolio
from trading.clearing import corporate_actions, cycle
from trading.clearing.models import Break, CorporateAction, ReconciliationRun
from trading.orders.models import Position, PositionAdjustment
from trading.reporting import documents
from trading.simulation import clearing_firm

from .conftest import at_noon, open_account, sessions_back, trade

pytestmark = pytest.mark.django_db
D = Decimal


def business_day(day, today):
    cycle.evening(day)
    clearing_firm.answer(day)
    return cycle.morning(today)


def test_dividend_and_split_flow_through(acme, client):
    s0, s1, s2, s3 = sessions_back(4)
    holder = open_account(opened_at=at_noon(s0) - timedelta(days=3))
    buyer_after = open_account(opened_at=at_noon(s0) - timedelta(days=3))
    trade(holder, "buy", 10, "100.00", "H1", executed_at=at_noon(s0))
    # Bought on the ex-date: not a holder of record, no dividend.
    trade(buyer_after, "buy", 4, "100.00", "B1", executed_at=at_noon(s1))
    clearing_firm.announce_dividend("ACME", D("0.50"), ex_date=s1, pay_date=s2)
    clearing_firm.announce_split("ACME", 2, 1, ex_date=s2)

    first = business_day(s0, today=s1)
    assert first.reconciled == [s0.isoformat()] and first.actions_applied == []
    assert CorporateAction.objects.count() == 2

    second = business_day(s1, today=s2)
    assert sorted(second.actions_applied) == [f"DIV-ACME-{s1:%Y%m%d}", f"SPLIT-ACME-{s2:%Y%m%d}"]
    business_day(s2, today=s3)
    assert [r.business_date for r in ReconciliationRun.objects.order_by("business_date")] == [
        s0,
        s1,
        s2,
    ]
    assert list(Break.objects.values_list("kind", "account_number")) == []

    # Cash: $0.50 on the 10 shares held at the close before the ex-date, paid on s2.
    dividend = JournalEntry.objects.get(kind="dividend", account=holder)
    assert dividend.effective_on == s2
    assert dividend.postings.get(ledger_account__account=holder).amount == D("5.00")
    assert dividend.postings.get(ledger_account__account=holder).settles_on == s2
    assert not JournalEntry.objects.filter(kind="dividend", account=buyer_after).exists()
    assert ledger.verify_balances() == []

    # Positions: doubled, the average cost halved, the cost basis unchanged.
    position = Position.objects.get(account=holder, security=acme)
    assert (position.qty, position.avg_cost) == (20, D("50.0000"))
    assert Position.objects.get(account=buyer_after, security=acme).qty == 8
    split = PositionAdjustment.objects.get(account=holder)
    assert (split.kind, split.qty_change, split.effective_on) == ("split", 10, s2)

    # Applying again changes nothing.
    for action in CorporateAction.objects.all():
        corporate_actions.apply_action(action)
    assert JournalEntry.objects.filter(kind="dividend").count() == 1
    assert PositionAdjustment.objects.count() == 2

    # Activity page, trading API, statement.
    client.force_login(holder.holders.get())
    page = client.get(f"/account/{holder.account_number}/activity/").content.decode()
    assert "Dividend ACME" in page
    assert "ACME 2-for-1 split" in page and "+10" in page
    kinds = {a["activity_type"]: a for a in portfolio.activities(holder)}
    assert kinds["DIV"]["net_amount"] == "5" or D(kinds["DIV"]["net_amount"]) == D("5.00")
    assert kinds["SPLIT"]["symbol"] == "ACME" and kinds["SPLIT"]["qty"] == "10"
    today = timezone.localdate()
    statement = documents.statement(holder, today.year, today.month)
    assert any(line.kind == "Dividend" and line.amount == D("5.00") for line in statement.lines)
    if s2.month == today.month:
        assert [c.qty_change for c in statement.position_changes] == [10]
    assert [(h.symbol, h.qty) for h in statement.holdings] == [("ACME", 20)]
    text = pdf_text(documents.statement_pdf(holder, today.year, today.month))
    assert "Dividend ACME" in text
