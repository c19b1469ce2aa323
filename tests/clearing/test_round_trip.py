"""A business day with the clearing firm: the outbound files, the simulator's answer,
loading and reconciling; zero breaks when both books agree, each injected break found
and named (docs/clearing.md)."""

import logging
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.money.models import JournalEntry
from trading.clearing import cycle, files
from trading.clearing.models import Break, ClearingFile, ReconciliationRun, SentRecord
from trading.simulation import clearing_firm

from .conftest import open_account, trade

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def day(acme):
    """Two accounts that deposited and traded today."""
    first, second = open_account(), open_account(cash="5000.00")
    buy = trade(first, "buy", 10, "100.00", "X1")
    trade(second, "buy", 20, "99.00", "X2")
    trade(second, "sell", 5, "101.00", "X3")
    return {"first": first, "second": second, "buy": buy, "date": timezone.localdate()}


def run_day(business_date, inject=None):
    cycle.evening(business_date)
    clearing_firm.answer(business_date, inject=inject)
    return cycle.morning(business_date)


def test_outbound_files_carry_the_day(day, settings):
    result = cycle.evening(day["date"])
    names = sorted(row.name for row in result.files)
    stamp = f"{day['date']:%Y%m%d}"
    assert names == [
        f"RUSH_ACCOUNTS_{stamp}_000001.csv",
        f"RUSH_MONEY_{stamp}_000001.csv",
        f"RUSH_TRADES_{stamp}_000001.csv",
    ]
    outbox = settings.CLEARING_OUTBOX_DIR
    assert not list(outbox.glob("*.tmp")) and not list(outbox.glob(".*"))
    trades = files.parse(
        (outbox / f"RUSH_TRADES_{stamp}_000001.csv").read_bytes(),
        sender="RUSH",
        receiver="CLRF",
        types=["TRADES"],
    )
    assert trades.sequence == 1 and trades.business_date == day["date"]
    assert [(r["side"], r["qty"], r["symbol"], r["cusip"]) for r in trades.records] == [
        ("B", 10, "ACME", "000000000"),
        ("B", 20, "ACME", "000000000"),
        ("S", 5, "ACME", "000000000"),
    ]
    first = trades.records[0]
    assert first["reference"] == f"E{day['buy'].pk}" and first["exec_id"] == "X1"
    assert first["net_amount"] == D("-1001.00")  # principal and the $1 minimum commission
    assert trades.control_totals == ["35", str(sum(r["net_amount"] for r in trades.records))]
    money = files.parse(
        (outbox / f"RUSH_MONEY_{stamp}_000001.csv").read_bytes(),
        sender="RUSH",
        receiver="CLRF",
        types=["MONEY"],
    )
    assert [(r["type"], r["amount"]) for r in money.records] == [
        ("ACH", D("10000.00")),
        ("ACH", D("5000.00")),
    ]
    # A second run writes nothing new; the records are reported once.
    again = cycle.evening(day["date"])
    assert sorted(again.skipped) == ["ACCOUNTS", "MONEY", "TRADES"]
    assert SentRecord.objects.filter(kind="TRD").count() == 3
    assert ClearingFile.objects.filter(direction="out").count() == 3


def test_identity_numbers_never_in_clear(day, settings):
    from cryptography.fernet import Fernet

    application = day["first"].application
    assert application is None  # factories open accounts without one: give one
    from accounts.opening.models import AccountApplication

    app = AccountApplication.objects.create(
        applicant=day["first"].holders.get(),
        given_name="Ada",
        family_name="Lovelace",
        tax_id_type="ssn",
        tax_id="123-45-6789",
        tax_id_last4="6789",
    )
    day["first"].application = app
    day["first"].save()
    cycle.evening(day["date"])
    content = next(settings.CLEARING_OUTBOX_DIR.glob("RUSH_ACCOUNTS_*")).read_bytes()
    assert b"123-45-6789" not in content and b"123456789" not in content
    record = next(
        r
        for r in files.parse(content, sender="RUSH", receiver="CLRF", types=["ACCOUNTS"]).records
        if r["account_number"] == day["first"].account_number
    )
    assert record["tax_id_last4"] == "6789"
    key = Fernet(settings.CLEARING_FILE_KEY.encode())
    assert key.decrypt(record["tax_id_encrypted"].encode()) == b"123-45-6789"


def test_a_full_day_reconciles_with_zero_breaks(day):
    morning = run_day(day["date"])
    assert len(morning.loaded) == 4 and morning.rejected == []
    assert morning.reconciled == [day["date"].isoformat()]
    assert list(Break.objects.values_list("kind", "key")) == []
    run = ReconciliationRun.objects.get()
    assert run.breaks_by_kind == {} and run.accounts_compared == 2
    assert run.positions_compared == 2 and run.trades_compared == 3
    # Loading and reconciling again does nothing more.
    again = cycle.morning(day["date"])
    assert again.loaded == [] and again.reconciled == []
    assert ClearingFile.objects.filter(direction="in").count() == 4
    assert ReconciliationRun.objects.count() == 1


@pytest.mark.parametrize(
    ("injected", "expected"),
    [
        ("missing_trade", {("trade_missing_at_clearing", "first"), ("position", "first")}),
        ("quantity_mismatch", {("trade_mismatch", "first"), ("position", "first")}),
        ("cash_difference", {("cash", "first")}),
        ("unknown_account", {("account_unknown_to_clearing", "first")}),
    ],
)
def test_each_injected_break_is_found_and_named(day, injected, expected, caplog):
    run_day(day["date"], inject=[injected])
    numbers = {day["first"].account_number: "first", day["second"].account_number: "second"}
    found = {(b.kind, numbers[b.account_number]) for b in Break.objects.all()}
    assert found == expected
    main = {
        "missing_trade": "trade_missing_at_clearing",
        "quantity_mismatch": "trade_mismatch",
        "cash_difference": "cash",
        "unknown_account": "account_unknown_to_clearing",
    }[injected]
    item = Break.objects.get(kind=main)
    assert item.status == "open" and item.first_seen_on == day["date"]
    if injected == "missing_trade":
        assert item.reference == f"E{day['buy'].pk}" and item.ours == 10 and item.theirs is None
    if injected == "quantity_mismatch":
        assert (item.ours, item.theirs) == (10, 11)
    if injected == "cash_difference":
        assert item.ours == D("10000.00") and item.theirs == D("10012.34")
        assert item.difference == D("12.34")


def test_breaks_age_and_warn_after_one_business_day(day, caplog):
    run_day(day["date"], inject=["cash_difference"])
    item = Break.objects.get()
    # Seen again on later business days: the same break, older.
    from .conftest import sessions_back

    old = sessions_back(3)[0]
    Break.objects.filter(pk=item.pk).update(first_seen_on=old)
    caplog.set_level(logging.WARNING, logger="trading.clearing.reconcile")
    clearing_firm.answer(day["date"], again=True)
    cycle.morning(day["date"])
    from trading.clearing.reconcile import reconcile

    reconcile(day["date"])
    item.refresh_from_db()
    assert item.status == "open" and item.first_seen_on == old and item.last_seen_on == day["date"]
    assert Break.objects.count() == 1
    assert any(
        f"Clearing break {item.pk} open for" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
    )


def test_staff_accept_clearing_cash_through_the_ledger(day, client):
    from tests.factories import StaffFactory

    run_day(day["date"], inject=["cash_difference"])
    item = Break.objects.get()
    staff = StaffFactory(is_superuser=True)
    client.force_login(staff)
    page = client.get("/admin/trading/break/")
    assert page.status_code == 200
    assert b"Reconciliation" in page.content and b"Accept clearing" in page.content
    url = f"/admin/trading/break/{item.pk}/accept/"
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and b"reason" in refused.content.lower()
    item.refresh_from_db()
    assert item.status == "open"
    done = client.post(url, {"reason": "Clearing credited a courtesy refund; confirmed by phone"})
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == "accepted" and item.decided_by == staff
    entry = JournalEntry.objects.get(pk=item.journal_entry_id)
    assert entry.kind == "adjustment" and entry.created_by == staff
    assert entry.reason.startswith("Clearing credited")
    assert entry.postings.get(ledger_account__account=day["first"]).amount == D("12.34")
    # Twice is refused, not posted twice.
    again = client.post(url, {"reason": "again"})
    assert again.status_code == 200
    assert JournalEntry.objects.filter(idempotency_key=f"clearing:break:{item.pk}").count() == 1
    # The books now agree: the next day's reconciliation finds nothing.
    from accounts.money import ledger

    assert ledger.verify_balances() == []


def test_mark_explained_needs_a_note(day, client):
    from tests.factories import StaffFactory

    run_day(day["date"], inject=["missing_trade"])
    item = Break.objects.get(kind="trade_missing_at_clearing")
    client.force_login(StaffFactory(is_superuser=True))
    url = f"/admin/trading/break/{item.pk}/explain/"
    assert client.post(url, {"note": "  "}).status_code == 200
    item.refresh_from_db()
    assert item.status == "open"
    assert client.post(url, {"note": "Clearing booked it late, ticket 4411"}).status_code == 302
    item.refresh_from_db()
    assert item.status == "explained" and item.note == "Clearing booked it late, ticket 4411"
    # Not acceptable: a trade break is worked, not adjusted.
    assert (
        client.post(f"/admin/trading/break/{item.pk}/accept/", {"reason": "x"}).status_code == 200
    )
    item.refresh_from_db()
    assert item.status == "explained"


def test_admin_home_warns_of_old_breaks(day, client):
    from tests.factories import StaffFactory

    from .conftest import sessions_back

    run_day(day["date"], inject=["cash_difference"])
    client.force_login(StaffFactory(is_superuser=True))
    assert b"home-warnings" not in client.get("/admin/").content
    Break.objects.update(first_seen_on=sessions_back(3)[0])
    page = client.get("/admin/").content.decode()
    assert "home-warnings" in page and "older than one business day" in page


def test_a_changed_account_is_sent_again_and_an_unchanged_one_not(day, settings):
    from datetime import timedelta

    cycle.evening(day["date"])
    day["first"].status = "restricted"
    day["first"].save()
    tomorrow = day["date"] + timedelta(days=1)
    cycle.evening(tomorrow)
    content = next(settings.CLEARING_OUTBOX_DIR.glob(f"RUSH_ACCOUNTS_{tomorrow:%Y%m%d}_*"))
    parsed = files.parse(content.read_bytes(), sender="RUSH", receiver="CLRF", types=["ACCOUNTS"])
    assert parsed.sequence == 2
    assert [(r["action"], r["account_number"], r["status"]) for r in parsed.records] == [
        ("C", day["first"].account_number, "restricted")
    ]
    # Nothing traded or moved since: empty trades and money files, still in sequence.
    trades = next(settings.CLEARING_OUTBOX_DIR.glob(f"RUSH_TRADES_{tomorrow:%Y%m%d}_*"))
    assert trades.read_bytes().splitlines()[-1] == b"T,0,0,0.00"


def test_staff_accept_clearing_quantity_adjusts_the_position(day, client):
    from tests.factories import StaffFactory
    from trading.orders.models import Position, PositionAdjustment

    run_day(day["date"], inject=["quantity_mismatch"])
    item = Break.objects.get(kind="position")
    assert (item.ours, item.theirs) == (10, 11)
    staff = StaffFactory(is_superuser=True)
    client.force_login(staff)
    response = client.post(
        f"/admin/trading/break/{item.pk}/accept/", {"reason": "Clearing's allocation confirmed"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    adjustment = PositionAdjustment.objects.get(pk=item.position_adjustment_id)
    assert (adjustment.kind, adjustment.qty_change, adjustment.created_by) == ("clearing", 1, staff)
    assert Position.objects.get(account=day["first"], security__symbol="ACME").qty == 11
    # The trade itself stays a break to explain: it cannot be "accepted".
    trade_break = Break.objects.get(kind="trade_mismatch")
    assert trade_break.status == "open"


def test_breaks_stay_open_on_later_days_until_they_clear(day):
    from datetime import timedelta

    run_day(day["date"], inject=["missing_trade"])
    later = day["date"] + timedelta(days=1)
    run_day(later)
    trade_break = Break.objects.get(kind="trade_missing_at_clearing")
    position = Break.objects.get(kind="position")
    assert trade_break.status == "open" and trade_break.first_seen_on == day["date"]
    assert position.status == "open" and position.last_seen_on == later
    assert ReconciliationRun.objects.count() == 2
    assert ReconciliationRun.objects.get(business_date=later).new_breaks == 0
