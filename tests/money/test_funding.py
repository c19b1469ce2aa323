"""Funding: bank links, deposits and withdrawals through the API, the ACH simulator,
staff decisions, and concurrent withdrawals on PostgreSQL."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.money import funding, ledger
from accounts.money.models import (
    Hold,
    JournalEntry,
    JournalEntryKind,
    Posting,
    Transfer,
    TransferStatus,
)
from tests.factories import ROUTING, AccountFactory, StaffFactory, fund

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def account():
    return AccountFactory()


@pytest.fixture
def api(account):
    client = APIClient()
    client.force_authenticate(account.holders.get())
    return client


def url(account, tail=""):
    return f"/api/v1/accounts/{account.account_number}/{tail}"


@pytest.fixture
def bank(api, account):
    response = api.post(
        url(account, "bank-links"),
        {
            "routing_number": ROUTING,
            "bank_account_number": "000123456789",
            "bank_account_type": "checking",
            "nickname": "Main checking",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_link_bank_masks_the_number(api, account, bank):
    assert bank["bank_account_masked"] == "••••6789"
    assert "bank_account_number" not in bank
    listing = api.get(url(account, "bank-links")).content.decode()
    assert "000123456789" not in listing and "••••6789" in listing


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"routing_number": "021000022"}, "routing_number", "invalid_routing_number"),
        ({"routing_number": "12345"}, "routing_number", "invalid_routing_number"),
        ({"bank_account_number": "12ab"}, "bank_account_number", "invalid_bank_account_number"),
        ({"bank_account_type": "brokerage"}, "bank_account_type", "invalid_choice"),
    ],
)
def test_bad_bank_links_named(api, account, data, field, code):
    body = {
        "routing_number": ROUTING,
        "bank_account_number": "000123456789",
        "bank_account_type": "checking",
        **data,
    }
    response = api.post(url(account, "bank-links"), body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"][field]["code"] == code
    assert not account.bank_links.exists()


def test_deposit_pending_then_settled_by_simulator(api, account, bank, settings):
    settings.ACH_SIMULATED_SETTLEMENT_SECONDS = 20
    response = api.post(
        url(account, "transfers"),
        {"direction": "deposit", "amount": "1500.00", "bank_link": bank["id"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "requested" and response.json()["amount"] == "1500.00"
    assert api.get(url(account, "balances")).json()["cash"] == "0.00"

    assert funding.run_ach_simulator() == {"submitted": 1, "completed": 0}
    transfer_url = url(account, f"transfers/{response.json()['id']}")
    assert api.get(transfer_url).json()["status"] == "pending"
    assert api.get(url(account, "balances")).json()["cash"] == "0.00"

    later = timezone.now() + timedelta(seconds=21)
    assert funding.run_ach_simulator(now=later) == {"submitted": 0, "completed": 1}
    assert funding.run_ach_simulator(now=later) == {"submitted": 0, "completed": 0}
    assert api.get(transfer_url).json()["status"] == "completed"
    balances = api.get(url(account, "balances")).json()
    assert balances["cash"] == balances["settled_cash"] == balances["withdrawable"] == "1500.00"
    activity = api.get(url(account, "activities")).json()["results"]
    assert [(a["activity_type"], a["amount"]) for a in activity] == [("deposit", "1500.00")]
    assert activity[0]["description"] == "ACH deposit from Main checking ••••6789"


def test_withdrawal_holds_then_completes(api, account, bank):
    fund(account, D("1000.00"))
    response = api.post(
        url(account, "transfers"),
        {"direction": "withdrawal", "amount": "400", "bank_link": bank["id"]},
        format="json",
    )
    assert response.status_code == 201
    balances = api.get(url(account, "balances")).json()
    assert (balances["cash"], balances["holds"], balances["withdrawable"]) == (
        "1000.00",
        "400.00",
        "600.00",
    )
    funding.complete_transfer(Transfer.objects.get(pk=response.json()["id"]))
    balances = api.get(url(account, "balances")).json()
    assert (balances["cash"], balances["holds"], balances["withdrawable"]) == (
        "600.00",
        "0.00",
        "600.00",
    )
    kinds = [a["activity_type"] for a in api.get(url(account, "activities")).json()["results"]]
    assert kinds == ["withdrawal", "deposit"]


def test_cancel_releases_the_hold_and_only_while_requested(api, account, bank):
    fund(account, D("1000.00"))
    created = api.post(
        url(account, "transfers"),
        {"direction": "withdrawal", "amount": "1000.00", "bank_link": bank["id"]},
        format="json",
    ).json()
    assert api.get(url(account, "balances")).json()["withdrawable"] == "0.00"
    response = api.delete(url(account, f"transfers/{created['id']}"))
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    assert api.get(url(account, "balances")).json()["withdrawable"] == "1000.00"
    again = api.delete(url(account, f"transfers/{created['id']}"))
    assert again.status_code == 409 and again.json()["code"] == "invalid_status"


def test_withdrawal_beyond_withdrawable_refused(api, account, bank):
    fund(account, D("100.00"))
    response = api.post(
        url(account, "transfers"),
        {"direction": "withdrawal", "amount": "100.01", "bank_link": bank["id"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["amount"]["code"] == "insufficient_funds"
    assert "$100.00" in response.json()["fields"]["amount"]["message"]
    assert not Hold.objects.exists()


def test_daily_deposit_limit(api, account, bank, settings):
    settings.DAILY_DEPOSIT_LIMIT = D("5000.00")
    ok = api.post(
        url(account, "transfers"),
        {"direction": "deposit", "amount": "4000", "bank_link": bank["id"]},
        format="json",
    )
    assert ok.status_code == 201
    response = api.post(
        url(account, "transfers"),
        {"direction": "deposit", "amount": "1000.01", "bank_link": bank["id"]},
        format="json",
    )
    assert response.json()["fields"]["amount"]["code"] == "deposit_limit_exceeded"
    assert "$1,000.00 more today" in response.json()["fields"]["amount"]["message"]


def test_client_transfer_id_makes_retries_safe(api, account, bank):
    body = {
        "direction": "deposit",
        "amount": "50.00",
        "bank_link": bank["id"],
        "client_transfer_id": "abc-1",
    }
    first = api.post(url(account, "transfers"), body, format="json")
    retry = api.post(url(account, "transfers"), body, format="json")
    assert first.status_code == 201 and retry.status_code == 200
    assert first.json()["id"] == retry.json()["id"]
    other = api.post(url(account, "transfers"), {**body, "amount": "60.00"}, format="json")
    assert other.status_code == 409
    assert other.json()["fields"]["client_transfer_id"]["code"] == "client_transfer_id_conflict"
    assert Transfer.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("-5.00", "amount_not_positive"),
        ("0", "amount_not_positive"),
        ("0.00", "amount_not_positive"),
        ("10.005", "too_many_decimals"),
        ("1e400", "amount_too_large"),
        ("99999999999999999999", "amount_too_large"),
        ("ten dollars", "invalid_amount"),
        ("NaN", "invalid_amount"),
        ("Infinity", "invalid_amount"),
        ("", "blank"),
    ],
)
def test_bad_amounts_named_and_nothing_written(api, account, bank, amount, code):
    fund(account, D("100.00"))
    before = (Transfer.objects.count(), Hold.objects.count(), Posting.objects.count())
    for direction in ("deposit", "withdrawal"):
        response = api.post(
            url(account, "transfers"),
            {"direction": direction, "amount": amount, "bank_link": bank["id"]},
            format="json",
        )
        assert response.status_code == 400, response.json()
        assert response.json()["fields"]["amount"]["code"] == code
    assert (Transfer.objects.count(), Hold.objects.count(), Posting.objects.count()) == before


def test_amount_as_json_number_is_accepted(api, account, bank):
    response = api.post(
        url(account, "transfers"),
        {"direction": "deposit", "amount": 12.5, "bank_link": bank["id"]},
        format="json",
    )
    assert response.status_code == 201 and response.json()["amount"] == "12.50"


def test_another_customers_account_and_bank_link(api, account, bank):
    other = AccountFactory()
    fund(other, D("500.00"))
    other_link = other.bank_links.get()
    for tail in ("balances", "transfers", "activities", "bank-links"):
        response = api.get(url(other, tail))
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = api.post(
        url(other, "transfers"),
        {"direction": "withdrawal", "amount": "10", "bank_link": other_link.pk},
        format="json",
    )
    assert response.status_code == 404
    # My account, their bank link: refused, named.
    response = api.post(
        url(account, "transfers"),
        {"direction": "deposit", "amount": "10", "bank_link": other_link.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["bank_link"]["code"] == "not_found"
    their_transfer = other.transfers.get()
    assert api.delete(url(account, f"transfers/{their_transfer.pk}")).status_code == 404
    assert api.delete(url(other, f"bank-links/{other_link.pk}")).status_code == 404
    assert Transfer.objects.filter(account=account).count() == 0
    other_link.refresh_from_db()
    assert other_link.active


def test_remove_bank_link(api, account, bank):
    assert api.delete(url(account, f"bank-links/{bank['id']}")).status_code == 204
    assert api.get(url(account, "bank-links")).json() == []


# --- Staff ---------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_staff_rejects_transfer_in_admin_with_reason(staff_client, account):
    fund(account, D("300.00"))
    user = account.holders.get()
    transfer, _ = funding.request_transfer(
        account,
        user,
        direction="withdrawal",
        amount="300",
        bank_link_id=account.bank_links.get().pk,
    )
    decide = reverse("admin:accounts_transfer_decide", args=[transfer.pk])
    response = staff_client.post(decide, {"decision": "reject", "reason": ""})
    assert response.status_code == 200
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED
    staff_client.post(decide, {"decision": "reject", "reason": "Bank account closed"})
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REJECTED and transfer.reason == "Bank account closed"
    assert ledger.balances(account).withdrawable == D("300.00")


def test_staff_approves_transfer_in_admin(staff_client, account):
    fund(account, D("300.00"))
    transfer, _ = funding.request_transfer(
        account,
        account.holders.get(),
        direction="deposit",
        amount="75",
        bank_link_id=account.bank_links.get().pk,
    )
    staff_client.post(
        reverse("admin:accounts_transfer_decide", args=[transfer.pk]),
        {"decision": "complete", "reason": ""},
    )
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED
    assert ledger.balances(account).cash == D("375.00")


def test_staff_manual_entry_needs_reason_and_is_audited(staff_client, account):
    fund(account, D("100.00"))
    post = reverse("admin:accounts_account_post_entry", args=[account.pk])
    response = staff_client.post(
        post, {"kind": "fee", "amount": "15", "description": "Paper statement fee", "reason": ""}
    )
    assert response.status_code == 200
    assert "reason is required" in response.content.decode()
    assert not JournalEntry.objects.filter(kind=JournalEntryKind.FEE).exists()
    staff_client.post(
        post,
        {
            "kind": "fee",
            "amount": "15",
            "description": "Paper statement fee",
            "reason": "Customer asked for paper",
        },
    )
    entry = JournalEntry.objects.get(kind=JournalEntryKind.FEE)
    assert entry.reason == "Customer asked for paper" and entry.created_by.is_staff
    assert ledger.balances(account).cash == D("85.00")
    staff_client.post(
        post,
        {
            "kind": "adjustment",
            "amount": "-5.50",
            "description": "Correction",
            "reason": "Duplicate credit",
        },
    )
    assert ledger.balances(account).cash == D("79.50")
    assert ledger.verify_balances() == []
    page = staff_client.get(reverse("admin:accounts_account_change", args=[account.pk]))
    assert "cash: $79.50" in page.content.decode()


def test_ledger_is_read_only_in_admin(staff_client, account):
    fund(account, D("10.00"))
    entry = JournalEntry.objects.get()
    change = reverse("admin:accounts_journalentry_change", args=[entry.pk])
    page = staff_client.get(change)
    assert page.status_code == 200
    assert 'name="description"' not in page.content.decode()  # no editable field
    assert staff_client.get(reverse("admin:accounts_journalentry_add")).status_code == 403
    delete = reverse("admin:accounts_journalentry_delete", args=[entry.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


def test_customer_cannot_use_staff_views(client, account):
    client.force_login(account.holders.get())
    response = client.post(
        reverse("admin:accounts_account_post_entry", args=[account.pk]),
        {"kind": "interest", "amount": "1000", "description": "x", "reason": "y"},
    )
    assert response.status_code == 302
    assert not JournalEntry.objects.exists()


# --- Concurrency ------------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_withdrawals_never_exceed_the_balance():
    account = AccountFactory()
    user = account.holders.get()
    fund(account, D("1000.00"))
    link = account.bank_links.get()
    barrier = threading.Barrier(20)
    outcomes = []

    def withdraw():
        try:
            barrier.wait()
            funding.request_transfer(
                account, user, direction="withdrawal", amount="150.00", bank_link_id=link.pk
            )
            outcomes.append("ok")
        except funding.ServiceError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=withdraw) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 6  # 6 x 150 = 900 <= 1000 < 7 x 150
    assert outcomes.count("insufficient_funds") == 14
    held = sum(h.amount for h in Hold.objects.filter(released_at__isnull=True))
    assert held == D("900.00")
    for transfer in Transfer.objects.filter(direction="withdrawal"):
        funding.complete_transfer(transfer)
    assert ledger.balances(account).cash == D("100.00")
    assert ledger.verify_balances() == []
