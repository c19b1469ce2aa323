"""US tax withheld from a cash dividend by the holder's tax form: a non-resident alien
(W-8BEN) at the treaty rate of the country claimed or 30%, a US person (W-9) nothing, an
account without a certification backup withholding at 24%; a separate ledger entry
shown in activity, the statement and the trading API (DIVNRA, DIVWH); the clearing
firm withholds the same and the books agree (docs/clearing.md, "Dividend withholding")."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from alpaca.trading.models import NonTradeActivity
from django.utils import timezone

from accounts.money import ledger
from accounts.money.models import JournalEntry, LedgerAccountKind
from accounts.money.withholding import dividend_withholding
from accounts.opening.models import AccountApplication
from tests.alpaca.test_alpaca_api import client_for
from trading.alpaca import portfolio
from trading.clearing import cycle
from trading.clearing.models import Break, ClearingActivity
from trading.reporting import documents
from trading.simulation import clearing_firm

from .conftest import at_noon, open_account, sessions_back, trade

pytestmark = pytest.mark.django_db
D = Decimal


def certified(account, tax_form, treaty_country="", citizenship="US"):
    user = account.holders.get()
    account.application = AccountApplication.objects.create(
        applicant=user,
        status="approved",
        given_name="Test",
        family_name=f"Holder{account.pk}",
        citizenship=citizenship,
        tax_residence=citizenship,
        tax_form=tax_form,
        treaty_country=treaty_country,
    )
    account.save(update_fields=["application"])
    return account


def api_activities(account):
    """GET /v2/account/activities with the account's API key."""
    response = client_for(account).get("/v2/account/activities")
    assert response.status_code == 200, response.content
    return response.json()


def withheld(account):
    entry = JournalEntry.objects.filter(
        account=account, kind__in=["nra_withholding", "backup_withholding"]
    ).first()
    if entry is None:
        return None
    return entry.kind, entry.postings.get(ledger_account__account=account).amount


def test_rates_by_tax_form_and_treaty():
    assert dividend_withholding("w9", "")[0].rate == 0
    assert dividend_withholding("w8ben", "DE")[0].rate == D("0.15")
    assert dividend_withholding("w8ben", "jp")[0].rate == D("0.10")
    assert dividend_withholding("w8ben", "")[0].rate == D("0.30")
    assert dividend_withholding("w8ben", "BR")[0].rate == D("0.30")
    assert dividend_withholding("w8ben", "BR")[1] is True
    assert dividend_withholding("", "")[0].rate == D("0.24")


def test_dividend_withheld_by_tax_status(acme, client, caplog):
    s0, s1, s2, s3 = sessions_back(4)
    opened = at_noon(s0) - timedelta(days=3)
    accounts = {
        "us": certified(open_account(opened_at=opened), "w9"),
        "de": certified(open_account(opened_at=opened), "w8ben", "DE", "DE"),
        "br": certified(open_account(opened_at=opened), "w8ben", "BR", "BR"),
        "sg": certified(open_account(opened_at=opened), "w8ben", "", "SG"),
        "none": open_account(opened_at=opened),
    }
    for i, account in enumerate(accounts.values()):
        trade(account, "buy", 10, "100.00", f"W{i}", executed_at=at_noon(s0))
    clearing_firm.announce_dividend("ACME", D("0.50"), ex_date=s1, pay_date=s2)

    with caplog.at_level(logging.WARNING, logger="trading.clearing.corporate_actions"):
        for day, today in ((s0, s1), (s1, s2), (s2, s3)):
            cycle.evening(day)
            clearing_firm.answer(day)
            cycle.morning(today)

    # Every holder gets the gross $5.00; the tax is its own entry.
    for account in accounts.values():
        dividend = JournalEntry.objects.get(kind="dividend", account=account)
        assert dividend.postings.get(ledger_account__account=account).amount == D("5.00")
    assert withheld(accounts["us"]) is None
    assert withheld(accounts["de"]) == ("nra_withholding", D("-0.75"))
    assert withheld(accounts["br"]) == ("nra_withholding", D("-1.50"))
    assert withheld(accounts["sg"]) == ("nra_withholding", D("-1.50"))
    assert withheld(accounts["none"]) == ("backup_withholding", D("-1.20"))
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(accounts["br"].account_number in w and "BR" in w for w in warnings)
    payable = ledger.firm_ledger(LedgerAccountKind.TAX_WITHHELD)
    payable.refresh_from_db()
    assert payable.balance == D("4.95")
    assert ledger.verify_balances() == []

    # The clearing firm withheld the same: its activity carries it, the books agree.
    booked = dict(
        ClearingActivity.objects.filter(activity_type__in=["DIVNRA", "DIVWH"]).values_list(
            "account_number", "net_amount"
        )
    )
    assert booked == {
        accounts["de"].account_number: D("-0.75"),
        accounts["br"].account_number: D("-1.50"),
        accounts["sg"].account_number: D("-1.50"),
        accounts["none"].account_number: D("-1.20"),
    }
    assert list(Break.objects.values_list("kind", "account_number")) == []

    # Activity page, statement, trading API.
    de = accounts["de"]
    client.force_login(de.holders.get())
    page = client.get(f"/account/{de.account_number}/activity/").content.decode()
    assert "Tax withheld on ACME dividend: 15% (DE treaty)" in page
    today = timezone.localdate()
    statement = documents.statement(de, today.year, today.month)
    if s2.month == today.month:
        assert any(
            line.kind == "Dividend tax withheld (non-resident alien)" and line.amount == D("-0.75")
            for line in statement.lines
        )
    types = {a["activity_type"]: a for a in portfolio.activities(de)}
    assert D(types["DIV"]["net_amount"]) == D("5.00")
    assert D(types["DIVNRA"]["net_amount"]) == D("-0.75")
    assert "DIVNRA" not in {a["activity_type"] for a in portfolio.activities(accounts["us"])}
    none_types = {a["activity_type"] for a in portfolio.activities(accounts["none"])}
    assert "DIVWH" in none_types
    only = portfolio.activities(de, activity_types=["DIVNRA"])
    assert [a["activity_type"] for a in only] == ["DIVNRA"]
    # Alpaca's own SDK models read them (through the API's JSON).
    for account in (de, accounts["none"]):
        for item in api_activities(account):
            if item["activity_type"] != "FILL":
                parsed = NonTradeActivity(**item)
                assert parsed.activity_type.value == item["activity_type"]
