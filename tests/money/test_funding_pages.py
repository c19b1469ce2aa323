"""The customer's account pages: balances, transfers, activity; only their own."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.money import funding
from accounts.money.models import Transfer, TransferStatus
from tests.factories import PASSWORD, ROUTING, AccountFactory, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return AccountFactory()


@pytest.fixture
def customer(client, account):
    client.force_login(account.holders.get())
    return client


def test_link_bank_deposit_and_see_it(customer, account):
    pages = reverse("account-transfers", args=[account.account_number])
    response = customer.post(
        reverse("account-bank-link-new", args=[account.account_number]),
        {
            "routing_number": ROUTING,
            "bank_account_number": "987654321",
            "bank_account_type": "savings",
            "nickname": "Rainy day",
        },
    )
    assert response.status_code == 302
    page = customer.get(pages).content.decode()
    assert "Rainy day ••••4321" in page and "987654321" not in page
    link = account.bank_links.get()

    form = {
        "direction": "deposit",
        "amount": "2,500.00",
        "bank_link": link.pk,
        "client_transfer_id": "form-123",
    }
    new = reverse("account-transfer-new", args=[account.account_number])
    assert customer.post(new, form).status_code == 302
    assert customer.post(new, form).status_code == 302  # double submit: still one transfer
    transfer = Transfer.objects.get()
    assert transfer.amount == Decimal("2500.00")
    assert "Requested" in customer.get(pages).content.decode()

    funding.submit_transfer(transfer)
    funding.complete_transfer(transfer)
    overview = customer.get(reverse("account-overview", args=[account.account_number]))
    html = overview.content.decode()
    assert 'data-testid="cash">$2,500.00' in html
    assert "ACH deposit from Rainy day ••••4321" in html
    partial = customer.get(
        reverse("account-transfers", args=[account.account_number]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Completed" in partial and "<html" not in partial


def test_transfer_form_errors_shown(customer, account):
    fund(account, Decimal("10.00"))
    # The bank was linked today: a withdrawal to it needs a fresh sign-in (the step-up).
    customer.logout()
    customer.post(
        reverse("account_login"),
        {"login": account.holders.get().email, "password": PASSWORD},
    )
    new = reverse("account-transfer-new", args=[account.account_number])
    response = customer.post(
        new,
        {
            "direction": "withdrawal",
            "amount": "10.001",
            "bank_link": account.bank_links.get().pk,
            "client_transfer_id": "x1",
        },
    )
    assert response.status_code == 400
    assert "at most two decimals" in response.content.decode()
    response = customer.post(
        new,
        {
            "direction": "withdrawal",
            "amount": "11",
            "bank_link": account.bank_links.get().pk,
            "client_transfer_id": "x2",
        },
    )
    assert "You can withdraw at most $10.00" in response.content.decode()
    assert Transfer.objects.filter(direction="withdrawal").count() == 0


def test_cancel_from_page(customer, account):
    fund(account, Decimal("50.00"))
    transfer, _ = funding.request_transfer(
        account,
        account.holders.get(),
        direction="withdrawal",
        amount="20",
        bank_link_id=account.bank_links.get().pk,
    )
    customer.post(reverse("account-transfer-cancel", args=[account.account_number, transfer.pk]))
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELED


def test_activity_page_paginates(customer, account):
    for _ in range(3):
        fund(account, Decimal("1.00"))
    page = customer.get(reverse("account-activity", args=[account.account_number]))
    assert page.content.decode().count('data-testid="activity-row"') == 3


def test_other_customers_account_pages_are_404(customer):
    other = AccountFactory()
    fund(other, Decimal("100.00"))
    number = other.account_number
    for name in (
        "account-overview",
        "account-portfolio",
        "account-activity",
        "account-transfers",
        "account-documents",
        "account-api-keys",
    ):
        assert customer.get(reverse(name, args=[number])).status_code == 404
    transfer = other.transfers.get()
    assert (
        customer.post(reverse("account-transfer-cancel", args=[number, transfer.pk])).status_code
        == 404
    )
    assert (
        customer.post(
            reverse("account-transfer-new", args=[number]),
            {
                "direction": "withdrawal",
                "amount": "10",
                "bank_link": other.bank_links.get().pk,
                "client_transfer_id": "z",
            },
        ).status_code
        == 404
    )
    assert other.transfers.count() == 1


def test_activity_filters_and_csv(customer, account):
    from accounts.money import ledger
    from accounts.money.models import JournalEntryKind, LedgerAccountKind

    fund(account, Decimal("1000.00"))
    fund(account, Decimal("250.00"))
    ledger.post_journal_entry(
        JournalEntryKind.FEE,
        "Wire fee",
        [
            ledger.Line(ledger.customer_cash(account), Decimal("-25.00")),
            ledger.Line(ledger.firm_ledger(LedgerAccountKind.FEE_REVENUE), Decimal("25.00")),
        ],
        account=account,
    )
    url = reverse("account-activity", args=[account.account_number])
    html = customer.get(url, {"kind": "fee"}).content.decode()
    assert html.count('data-testid="activity-row"') == 1 and "Wire fee" in html
    html = customer.get(url, {"kind": "deposit"}).content.decode()
    assert html.count('data-testid="activity-row"') == 2
    assert (
        customer.get(url, {"start": "2001-01-01", "end": "2001-12-31"})
        .content.decode()
        .count('data-testid="activity-row"')
        == 0
    )

    csv_response = customer.get(url, {"format": "csv"})
    assert csv_response["Content-Type"].startswith("text/csv")
    assert f"{account.account_number}-activity-" in csv_response["Content-Disposition"]
    lines = csv_response.content.decode().strip().splitlines()
    assert lines[0] == "date,type,description,amount,settles_on,entry_id"
    assert len(lines) == 4
    assert any(",fee,Wire fee,-25.00," in line for line in lines)
    only_deposits = customer.get(url, {"format": "csv", "kind": "deposit"}).content.decode()
    assert len(only_deposits.strip().splitlines()) == 3

    # Bad filters: said, never a 500; the CSV refuses with the reason.
    bad = customer.get(url, {"start": "2026-02-30", "kind": "bogus"})
    assert bad.status_code == 200
    assert "Enter a valid date." in bad.content.decode()
    assert customer.get(url, {"start": "2026-03-02", "end": "2026-03-01"}).status_code == 200
    refused = customer.get(url, {"format": "csv", "start": "nope"})
    assert refused.status_code == 400 and b"start" in refused.content
