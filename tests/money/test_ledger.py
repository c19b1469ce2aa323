"""The double-entry cash ledger: balanced, immutable, idempotent; balances and settlement."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.money import funding, ledger
from accounts.money.models import Hold, JournalEntry, JournalEntryKind, LedgerAccountKind, Posting
from accounts.opening.models import AccountType
from tests.factories import AccountFactory, StaffFactory, fund
from trading.market.calendar import settlement_date

pytestmark = pytest.mark.django_db
D = Decimal
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database rules are PostgreSQL triggers"
)


def sale(account, amount, trade_date, key=None):
    """A sale's proceeds as the trading side posts them: settling T+1."""
    return ledger.post_journal_entry(
        JournalEntryKind.SELL,
        "Sold 10 ACME",
        [
            ledger.Line(ledger.customer_cash(account), amount, settlement_date(trade_date)),
            ledger.Line(
                ledger.firm_ledger(LedgerAccountKind.CLEARING), -amount, settlement_date(trade_date)
            ),
        ],
        account=account,
        idempotency_key=key,
    )


def test_unbalanced_entry_refused_and_nothing_written():
    account = AccountFactory()
    with pytest.raises(ledger.LedgerError, match="sum to zero"):
        ledger.post_journal_entry(
            JournalEntryKind.ADJUSTMENT,
            "bad",
            [
                ledger.Line(ledger.customer_cash(account), D("10.00")),
                ledger.Line(ledger.firm_ledger(LedgerAccountKind.ADJUSTMENTS), D("-9.99")),
            ],
        )
    with pytest.raises(ledger.LedgerError, match="cents"):
        ledger.post_journal_entry(
            JournalEntryKind.ADJUSTMENT,
            "bad",
            [
                ledger.Line(ledger.customer_cash(account), D("10.001")),
                ledger.Line(ledger.firm_ledger(LedgerAccountKind.ADJUSTMENTS), D("-10.001")),
            ],
        )
    assert not JournalEntry.objects.exists() and not Posting.objects.exists()


def test_idempotency_key_posts_once():
    account = AccountFactory()
    first = sale(account, D("100.00"), date(2026, 11, 24), key="exec:1")
    second = sale(account, D("100.00"), date(2026, 11, 24), key="exec:1")
    assert first == second
    assert ledger.balances(account, today=date(2026, 11, 30)).cash == D("100.00")
    assert ledger.verify_balances() == []


def test_reversal_restores_balance_and_only_once():
    account = AccountFactory()
    fund(account, D("500.00"))
    entry = ledger.post_manual_entry(
        account, JournalEntryKind.FEE, D("25.00"), "Wire fee", "Outgoing wire", StaffFactory()
    )
    assert ledger.balances(account).cash == D("475.00")
    reversal = ledger.reverse_entry(entry, None, "Fee waived")
    assert reversal.reverses == entry
    assert ledger.balances(account).cash == D("500.00")
    with pytest.raises(ledger.ServiceError) as exc:
        ledger.reverse_entry(entry, None, "again")
    assert exc.value.code == "already_reversed"
    assert ledger.verify_balances() == []


@pytest.mark.parametrize(
    ("trade", "settles"),
    [
        (date(2026, 11, 25), date(2026, 11, 27)),  # Wednesday before Thanksgiving -> Friday
        (date(2026, 11, 27), date(2026, 11, 30)),  # Friday (half day) -> Monday
        (date(2026, 11, 28), date(2026, 12, 1)),  # Saturday: from Monday's session -> Tuesday
        (date(2026, 12, 24), date(2026, 12, 28)),  # Christmas Eve -> Monday after Christmas
        (date(2026, 7, 2), date(2026, 7, 6)),  # Thursday -> Monday (July 3 observed holiday)
        (date(2027, 1, 15), date(2027, 1, 19)),  # Friday -> Tuesday (Martin Luther King Day)
    ],
)
def test_settlement_t_plus_1_on_nyse_calendar(trade, settles):
    assert settlement_date(trade) == settles


def deposit_settled_on(account, amount, day):
    """A deposit that settled on `day` (a fixed date, not the day the test runs)."""
    return ledger.post_journal_entry(
        JournalEntryKind.DEPOSIT,
        "ACH deposit",
        [
            ledger.Line(ledger.customer_cash(account), amount, day),
            ledger.Line(ledger.firm_ledger(LedgerAccountKind.FIRM_BANK), -amount, day),
        ],
        account=account,
    )


def test_sale_proceeds_unsettled_until_settlement_date():
    account = AccountFactory()
    deposit_settled_on(account, D("1000.00"), date(2026, 11, 20))
    sale(account, D("250.00"), date(2026, 11, 25))
    before = ledger.balances(account, today=date(2026, 11, 26))
    assert (before.cash, before.settled_cash, before.unsettled_cash) == (
        D("1250.00"),
        D("1000.00"),
        D("250.00"),
    )
    assert before.withdrawable == D("1000.00")
    assert before.buying_power == D("1250.00")  # settled + unsettled sale proceeds
    after = ledger.balances(account, today=date(2026, 11, 27))
    assert (after.settled_cash, after.unsettled_cash, after.withdrawable) == (
        D("1250.00"),
        D("0.00"),
        D("1250.00"),
    )


def test_holds_reduce_buying_power_and_withdrawable():
    account = AccountFactory()
    fund(account, D("1000.00"))
    with transaction.atomic():
        ledger.lock_account(account)
        hold = ledger.place_hold(account, D("300.00"), Hold.Reason.ORDER, "order:1")
    b = ledger.balances(account)
    assert (b.cash, b.holds, b.buying_power, b.withdrawable) == (
        D("1000.00"),
        D("300.00"),
        D("700.00"),
        D("700.00"),
    )
    assert ledger.release_hold(hold) is True
    assert ledger.release_hold(hold) is False  # once
    assert ledger.balances(account).buying_power == D("1000.00")


def test_margin_buying_power_is_reg_t():
    account = AccountFactory(account_type=AccountType.INDIVIDUAL_MARGIN)
    fund(account, D("10000.00"))
    assert ledger.balances(account).buying_power == D("20000.00")
    # $10,000 cash and $6,000 of stock: equity 16,000, requirement 3,000, excess 13,000.
    b = ledger.balances(account, long_market_value=D("6000.00"))
    assert (b.equity, b.buying_power) == (D("16000.00"), D("26000.00"))


def test_balances_is_one_query(django_assert_num_queries):
    account = AccountFactory()
    fund(account, D("100.00"))
    with django_assert_num_queries(1):
        ledger.balances(account)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_database_refuses_unbalanced_entry_and_changes():
    account = AccountFactory()
    cash = ledger.customer_cash(account)
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        entry = JournalEntry.objects.create(kind="adjustment", description="raw")
        Posting.objects.create(
            entry=entry, ledger_account=cash, amount=D("5.00"), settles_on=date.today()
        )
    assert not Posting.objects.exists()
    fund(account, D("10.00"))
    posting = Posting.objects.first()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).update(amount=D("99.00"))
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):  # below the ORM, which would refuse first
        cursor.execute("DELETE FROM accounts_posting WHERE id = %s", [posting.pk])
    assert ledger.balances(account).cash == D("10.00")


# --- Property: whatever happens, the ledger balances and no customer cash goes negative -----

operations = st.lists(
    st.tuples(
        st.sampled_from(
            ["deposit", "withdraw", "cancel", "complete", "hold", "release", "buy", "sell"]
        ),
        st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2),
    ),
    min_size=1,
    max_size=25,
)


# After every transfer's settlement (transfers settle the day they complete: today).
TRADE_DATE = date.today() + timedelta(days=30)


@hsettings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_ledger_invariants_over_random_operations(ops):
    account = AccountFactory()
    user = account.holders.get()
    link = funding.link_bank(
        account,
        user,
        routing_number="011000015",
        bank_account_number="55554444",
        bank_account_type="savings",
    )
    clearing = ledger.firm_ledger(LedgerAccountKind.CLEARING)
    open_transfers, holds = [], []
    for n, (op, amount) in enumerate(ops):
        try:
            if op == "deposit":
                t, _ = funding.request_transfer(
                    account, user, direction="deposit", amount=amount, bank_link_id=link.pk
                )
                open_transfers.append(t)
            elif op == "withdraw":
                t, _ = funding.request_transfer(
                    account, user, direction="withdrawal", amount=amount, bank_link_id=link.pk
                )
                open_transfers.append(t)
            elif op == "cancel" and open_transfers:
                funding.cancel_transfer(open_transfers.pop(0), user)
            elif op == "complete" and open_transfers:
                funding.complete_transfer(open_transfers.pop())
            elif op == "hold":
                with transaction.atomic():
                    ledger.lock_account(account)
                    if ledger.balances(account).buying_power >= amount:
                        holds.append(
                            ledger.place_hold(
                                account, amount, Hold.Reason.ORDER, f"order:{account.pk}:{n}"
                            )
                        )
            elif op == "release" and holds:
                ledger.release_hold(holds.pop())
            elif op == "buy" and holds:
                hold = holds.pop()  # a fill: pay for it from the hold
                with transaction.atomic():
                    ledger.lock_account(account)
                    settles = settlement_date(TRADE_DATE)
                    ledger.post_journal_entry(
                        JournalEntryKind.BUY,
                        "Bought",
                        [
                            ledger.Line(ledger.customer_cash(account), -hold.amount, settles),
                            ledger.Line(clearing, hold.amount, settles),
                        ],
                        account=account,
                    )
                    ledger.release_hold(hold)
            elif op == "sell":
                sale(account, amount, TRADE_DATE)
        except funding.ServiceError as exc:
            assert exc.code in {"insufficient_funds", "deposit_limit_exceeded", "invalid_status"}
        b = ledger.balances(account, today=TRADE_DATE)
        assert b.cash >= 0 and b.settled_cash >= 0
        assert b.holds <= b.cash
        assert b.withdrawable >= 0 and b.buying_power >= 0
    assert ledger.verify_balances() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_reversals_post_one():
    import threading

    from django.db import connections

    account = AccountFactory()
    fund(account, D("500.00"))
    entry = ledger.post_manual_entry(
        account, JournalEntryKind.FEE, D("25.00"), "Wire fee", "Outgoing wire", StaffFactory()
    )
    barrier, results = threading.Barrier(6), []

    def reverse():
        try:
            barrier.wait()
            results.append(ledger.reverse_entry(entry, None, "Fee waived").pk)
        except ledger.ServiceError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reverse) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("already_reversed") == 5
    assert len([r for r in results if isinstance(r, int)]) == 1
    assert JournalEntry.objects.filter(reverses=entry).count() == 1
    assert ledger.balances(account).cash == D("500.00")
    assert ledger.verify_balances() == []
