"""Trade confirmations and monthly statements as PDF: what they say, and only to the
account's holders."""

import re
import zlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountFactory, filled_order, fund
from trading.market.models import DailyClose, Security
from trading.orders.executions import CANCEL, ExecutionReport, apply_execution_report
from trading.orders.models import Execution
from trading.reporting import documents

pytestmark = pytest.mark.django_db
D = Decimal


def pdf_text(content: bytes) -> str:
    """The text drawn in a PDF made by fpdf2 (its streams are zlib-compressed)."""
    assert content.startswith(b"%PDF-")
    parts = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            parts.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    drawn = re.findall(r"\(((?:\\.|[^\\)])*)\)\s*Tj", "\n".join(parts))
    return " ".join(s.replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\") for s in drawn)


def trade(account, side, qty, price, exec_id):
    return filled_order(account, side, qty, price, exec_id)


@pytest.fixture
def account(market):
    market.last["ACME"] = D("100.00")
    Security.objects.create(
        symbol="ACME",
        name="Acme Corp",
        exchange="NYSE",
        reference_price=D("100"),
        isin="US0000000001",
    )
    account = AccountFactory()
    fund(account, D("5000.00"))
    return account


@pytest.fixture
def customer(client, account):
    client.force_login(account.holders.get())
    return client


def test_confirmation_says_what_rule_10b10_asks(customer, account):
    bought = trade(account, "buy", 10, "99.50", "X1")
    sold = trade(account, "sell", 4, "101.00", "X2")
    page = customer.get(reverse("account-documents", args=[account.account_number]))
    assert page.content.decode().count('data-testid="confirmation"') == 2
    response = customer.get(
        reverse("account-confirmation", args=[account.account_number, bought.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = pdf_text(response.content)
    for expected in (
        "Trade confirmation",
        account.account_number,
        "You bought",
        "10 shares",
        "ACME  Acme Corp",
        "US0000000001",
        "$99.5",
        "Principal amount",
        "$995.00",
        "Commission",
        "$1.00",
        "Net amount you paid",
        "$996.00",
        "Settlement date",
        "Agent",
        "Unsolicited",
        "payment for order",
        "Member FINRA/SIPC",
    ):
        assert expected in text, expected
    sale = pdf_text(
        customer.get(
            reverse("account-confirmation", args=[account.account_number, sold.pk])
        ).content
    )
    assert "You sold" in sale and "Net amount you received" in sale
    assert f"${sold.fees:,.2f}" in sale and sold.fees > 0  # SEC fee and FINRA TAF on a sale


def test_statement_figures(account, market):
    trade(account, "buy", 10, "99.50", "S1")
    today = timezone.localdate()
    statement = documents.statement(account, today.year, today.month)
    assert statement.opening_cash == D("0")
    assert statement.closing_cash == D("5000.00") - D("996.00")
    assert [(h.symbol, h.qty, h.price, h.value) for h in statement.holdings] == [
        ("ACME", 10, D("100.00"), D("1000.00"))
    ]
    assert statement.closing_equity == D("5004.00")
    assert [line.kind for line in statement.lines] == ["Deposit", "Purchase"]


def test_a_busted_fill_is_no_holding_on_the_statement(account, market):
    trade(account, "buy", 10, "99.50", "S1")
    second = trade(account, "buy", 5, "99.50", "S2")
    apply_execution_report(
        ExecutionReport(
            exec_id="S2B",
            cl_ord_id=second.order.cl_ord_id,
            exec_type="H",
            ord_status="2",
            last_qty=0,
            last_px=D("0"),
            cum_qty=0,
            leaves_qty=0,
            exec_trans_type=CANCEL,
            exec_ref_id="S2",
        )
    )
    assert Execution.objects.get(exec_id="S2").busted_at is not None
    today = timezone.localdate()
    statement = documents.statement(account, today.year, today.month)
    assert [(h.symbol, h.qty) for h in statement.holdings] == [("ACME", 10)]


def test_past_month_statement_uses_that_months_close(customer, account):
    execution = trade(account, "buy", 10, "99.50", "P1")
    last_month_end = timezone.localdate().replace(day=1) - timedelta(days=1)
    # Make the account, its deposit and the trade a month older (test data only: the
    # ledger's own rules forbid editing entries, so bypass them on the raw tables).
    from django.db import connection

    from accounts.money.models import JournalEntry

    when = timezone.now() - timedelta(days=40)
    type(account).objects.filter(pk=account.pk).update(opened_at=when - timedelta(days=1))
    Execution.objects.filter(pk=execution.pk).update(executed_at=when)
    table = JournalEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # triggers off for this session
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            f"UPDATE {table} SET created_at = %s, effective_on = %s",  # noqa: S608
            [when, timezone.localdate(when)],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    DailyClose.objects.create(
        security=execution.order.security, date=last_month_end, close=D("90.00")
    )
    account.refresh_from_db()
    past = when.astimezone(timezone.get_current_timezone())
    statement = documents.statement(account, past.year, past.month)
    assert statement.holdings[0].price == D("90.00") and statement.market_value == D("900.00")
    url = reverse("account-statement", args=[account.account_number, past.year, past.month])
    text = pdf_text(customer.get(url).content)
    assert "Account statement" in text and "$900.00" in text and "Bought 10 ACME" in text
    assert f"${D('4004.00'):,.2f}" in text  # cash at the end of that month

    this_month = timezone.localdate()
    current = customer.get(
        reverse(
            "account-statement", args=[account.account_number, this_month.year, this_month.month]
        )
    )
    assert "month to date" in pdf_text(current.content)
    before_opening = customer.get(
        reverse("account-statement", args=[account.account_number, 2001, 1])
    )
    assert before_opening.status_code == 404


def test_documents_are_the_holders_only(client, account):
    execution = trade(account, "buy", 1, "99.50", "O1")
    stranger = AccountFactory()
    client.force_login(stranger.holders.get())
    number = account.account_number
    today = timezone.localdate()
    assert client.get(reverse("account-documents", args=[number])).status_code == 404
    assert (
        client.get(reverse("account-confirmation", args=[number, execution.pk])).status_code == 404
    )
    assert (
        client.get(reverse("account-statement", args=[number, today.year, today.month])).status_code
        == 404
    )
    # Their own account number with someone else's execution id: also not found.
    own = stranger.account_number
    assert client.get(reverse("account-confirmation", args=[own, execution.pk])).status_code == 404


def test_statement_prints_the_bank_mask_and_names_in_the_core_font(customer, account, caplog):
    """Issue 15, point 5: the bank mask "••••6789" printed as "????6789"."""
    holder = account.holders.get()
    holder.first_name, holder.last_name = "Łukasz", "Dvořák"
    holder.save()
    today = timezone.localdate()
    url = reverse("account-statement", args=[account.account_number, today.year, today.month])
    text = pdf_text(customer.get(url).content)
    assert "ACH deposit from Checking ****6789" in text
    assert "Lukasz Dvorák" in text  # á is in Latin-1; ř and Ł are not
    assert "?" not in text
    assert "core font lacks" not in caplog.text


def test_characters_without_a_substitute_print_as_question_marks_and_are_logged(caplog):
    assert documents._latin1("Müller – 5 → 6 • ✓") == "Müller - 5 -> 6 * ?"
    assert "U+2713" in caplog.text
