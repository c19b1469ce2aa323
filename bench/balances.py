"""Balances of an account with 100,000 postings: time and SQL queries of the account page,
the balances endpoint and the activity endpoint, with a naive SUM over all postings
measured in the same run as the baseline.

    DATABASE_URL=postgres://... DEBUG=1 .venv/bin/python bench/balances.py [--postings N]

Builds its own throw-away test database (test_<name>), never touches the real one.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rushtrade.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

# BENCH_SMOKE=1: a tiny run that only checks the script still works
# (tests/project/test_bench_smoke.py).
SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def timed(func, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


def queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def build(n: int):
    from accounts.money import ledger
    from accounts.money.models import (
        JournalEntry,
        JournalEntryKind,
        LedgerAccount,
        LedgerAccountKind,
        Posting,
    )
    from accounts.opening.models import Account, AccountHolder
    from accounts.users.models import User

    user = User.objects.create_user("bench@example.com", "bench-password-123")
    account = Account.objects.create(
        account_number="RT10000008",
        account_type="individual_cash",
        opened_at=django.utils.timezone.now(),
    )
    AccountHolder.objects.create(account=account, user=user)
    cash = ledger.customer_cash(account)
    bank = ledger.firm_ledger(LedgerAccountKind.FIRM_BANK)
    start = date.today() - timedelta(days=n // 100)
    batch = 10_000
    total = Decimal("0")
    for offset in range(0, n, batch):
        with transaction.atomic():
            entries = JournalEntry.objects.bulk_create(
                JournalEntry(
                    kind=JournalEntryKind.DEPOSIT, description=f"Deposit {i}", account=account
                )
                for i in range(offset, min(offset + batch, n))
            )
            postings = []
            for i, entry in enumerate(entries, start=offset):
                amount = Decimal(i % 500 + 1) if i % 3 else -Decimal(i % 50 + 1)
                total += amount
                day = start + timedelta(days=i // 100)
                postings += [
                    Posting(entry=entry, ledger_account=cash, amount=amount, settles_on=day),
                    Posting(entry=entry, ledger_account=bank, amount=-amount, settles_on=day),
                ]
            Posting.objects.bulk_create(postings)
    LedgerAccount.objects.filter(pk=cash.pk).update(balance=total)
    LedgerAccount.objects.filter(pk=bank.pk).update(balance=-total)
    if connection.vendor == "postgresql":
        connection.cursor().execute("ANALYZE")
    return user, account, cash


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--postings", type=int, default=300 if SMOKE else 100_000)
    parser.add_argument("--repeat", type=int, default=2 if SMOKE else 30)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from accounts.money import ledger
        from accounts.money.models import Posting

        started = time.perf_counter()
        user, account, cash = build(args.postings)
        print(
            f"database: {connection.vendor}; built {args.postings:,} postings on one "
            f"customer account in {time.perf_counter() - started:.1f} s"
        )

        client = Client()
        client.force_login(user)
        number = account.account_number
        cases = {
            "baseline: SUM over all postings": lambda: Posting.objects.filter(
                ledger_account=cash
            ).aggregate(Sum("amount")),
            "ledger.balances()": lambda: ledger.balances(account),
            "GET /account/<n>/ (page)": lambda: client.get(f"/account/{number}/"),
            "GET /api/v1/accounts/<n>/balances": lambda: client.get(
                f"/api/v1/accounts/{number}/balances"
            ),
            "GET /api/v1/accounts/<n>/activities": lambda: client.get(
                f"/api/v1/accounts/{number}/activities"
            ),
            "GET /account/<n>/activity/ (page 1)": lambda: client.get(
                f"/account/{number}/activity/"
            ),
        }
        for response_check in ("GET /account/<n>/ (page)", "GET /api/v1/accounts/<n>/balances"):
            assert cases[response_check]().status_code == 200
        baseline = None
        print(f"{'what':<40} {'median ms':>10} {'min ms':>8} {'queries':>8} {'x baseline':>11}")
        for name, func in cases.items():
            func()  # warm
            median, best = timed(func, args.repeat)
            n_queries = queries(func)
            if name.startswith("baseline"):
                baseline = median
            ratio = f"{median / baseline:.2f}" if baseline else ""
            print(f"{name:<40} {median:>10.2f} {best:>8.2f} {n_queries:>8} {ratio:>11}")
        print("balances:", ledger.balances(account))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
