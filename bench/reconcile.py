"""Reconciliation with the clearing firm at scale: N accounts x P positions (default
100,000 x 10) on PostgreSQL. Builds the portal's books with COPY, writes the clearing
firm's POSITIONS, CASH and ACTIVITY files (with a few breaks planted), loads them through
the inbound loader and reconciles; at a tenth of the accounts first, in the same run, to
show that the number of SQL statements does not grow with the accounts.

    DATABASE_URL=postgres://... DEBUG=1 .venv/bin/python bench/reconcile.py [--accounts N]

Builds its own throw-away test database (test_<name>), never touches the real one.
"""

import argparse
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rushtrade.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

# BENCH_SMOKE=1: a tiny run that only checks the script still works
# (tests/project/test_bench_smoke.py).
SMOKE = os.environ.get("BENCH_SMOKE") == "1"
PLANTED = {"position": 3, "cash": 2, "account_unknown_to_us": 1}


def copy(model, columns, rows) -> None:
    table = model._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out,
    ):
        for row in rows:
            out.write_row(row)


def number(i: int) -> str:
    return f"RT{10_000_000 + i}"


def build(accounts: int, positions: int):
    """The portal's books: accounts, one deposit each, `positions` positions each."""
    from accounts.money import ledger
    from accounts.money.models import (
        JournalEntry,
        JournalEntryKind,
        LedgerAccount,
        LedgerAccountKind,
        Posting,
    )
    from accounts.opening.models import Account
    from trading.market.models import Security
    from trading.orders.models import Position

    now = timezone.now()
    opened = now - timezone.timedelta(days=30)
    today = timezone.localdate()
    securities = [
        Security.objects.get_or_create(
            symbol=f"BN{i:02d}",
            defaults={"name": f"Bench {i}", "exchange": "NYSE", "reference_price": 50},
        )[0]
        for i in range(positions)
    ]
    with transaction.atomic():
        copy(
            Account,
            ["account_number", "account_type", "status", "opened_at"],
            ((number(i), "individual_cash", "active", opened) for i in range(accounts)),
        )
        ids = dict(Account.objects.values_list("account_number", "id"))
        copy(
            LedgerAccount,
            ["kind", "account_id", "balance"],
            ((LedgerAccountKind.CUSTOMER_CASH, ids[number(i)], 1000 + i) for i in range(accounts)),
        )
        cash_ids = dict(
            LedgerAccount.objects.filter(kind=LedgerAccountKind.CUSTOMER_CASH).values_list(
                "account_id", "id"
            )
        )
        bank = ledger.firm_ledger(LedgerAccountKind.FIRM_BANK)
        # One balanced entry per account (the database checks each entry's balance).
        copy(
            JournalEntry,
            ["kind", "description", "account_id", "reason", "created_at", "effective_on"],
            (
                (JournalEntryKind.DEPOSIT, "Bench deposit", ids[number(i)], "", opened, today)
                for i in range(accounts)
            ),
        )
        entries = dict(
            JournalEntry.objects.filter(account__isnull=False).values_list("account_id", "id")
        )
        total = sum(1000 + i for i in range(accounts))
        copy(
            Posting,
            ["entry_id", "ledger_account_id", "amount", "settles_on"],
            (
                line
                for i in range(accounts)
                for line in (
                    (entries[ids[number(i)]], cash_ids[ids[number(i)]], 1000 + i, today),
                    (entries[ids[number(i)]], bank.pk, -(1000 + i), today),
                )
            ),
        )
        LedgerAccount.objects.filter(pk=bank.pk).update(balance=-total)
        copy(
            Position,
            ["account_id", "security_id", "qty", "avg_cost", "realized_pnl"],
            (
                (ids[number(i)], s.pk, 10 + (i + j) % 90, Decimal("50"), Decimal("0"))
                for i in range(accounts)
                for j, s in enumerate(securities)
            ),
        )
    return securities


def clearing_files(accounts: int, securities, inbox: Path) -> None:
    """What the clearing firm says, the same books but for the planted breaks."""
    from trading.clearing import files

    day = timezone.localdate()
    positions = [
        {
            "account_number": number(i),
            "symbol": s.symbol,
            "cusip": "",
            "qty": 10 + (i + j) % 90 + (1 if i < PLANTED["position"] and j == 0 else 0),
        }
        for i in range(accounts)
        for j, s in enumerate(securities)
    ]
    cash = [
        {
            "account_number": number(i),
            "settled_cash": Decimal(1000 + i) + (Decimal("0.01") if i < PLANTED["cash"] else 0),
        }
        for i in range(accounts)
    ] + [{"account_number": "RT99999999", "settled_cash": Decimal("1.00")}]
    for file_type, records in (("POSITIONS", positions), ("CASH", cash), ("ACTIVITY", [])):
        # Each run starts from empty tables: sequence 1.
        content, _ = files.render(file_type, "CLRF", "RUSH", day, 1, records)
        (inbox / files.file_name("CLRF", file_type, day, 1)).write_bytes(content)


def reset() -> None:
    from django.apps import apps

    tables = [
        apps.get_model("trading", m)._meta.db_table
        for m in (
            "Break",
            "ReconciliationRun",
            "ClearingPosition",
            "ClearingCash",
            "ClearingActivity",
            "CorporateAction",
            "ClearingFile",
            "Position",
        )
    ] + [
        apps.get_model("accounts", m)._meta.db_table
        for m in ("Posting", "JournalEntry", "LedgerAccount", "Account")
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def run(accounts: int, positions: int, inbox: Path) -> dict:
    from trading.clearing import inbound, reconcile

    reset()
    started = time.perf_counter()
    securities = build(accounts, positions)
    built = time.perf_counter() - started
    clearing_files(accounts, securities, inbox)
    started = time.perf_counter()
    loaded = inbound.load_inbox(inbox)
    load_seconds = time.perf_counter() - started
    assert all(row.status == "loaded" for row in loaded), [(r.name, r.reason) for r in loaded]
    for path in inbox.glob("*.csv"):
        path.unlink()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        result = reconcile.reconcile(timezone.localdate())
        seconds = time.perf_counter() - started
    assert result.breaks_by_kind == PLANTED, result.breaks_by_kind
    return {
        "accounts": accounts,
        "positions": accounts * positions,
        "build_s": built,
        "load_s": load_seconds,
        "reconcile_s": seconds,
        "queries": len(ctx.captured_queries),
        "breaks": result.breaks_by_kind,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200 if SMOKE else 100_000)
    parser.add_argument("--positions", type=int, default=3 if SMOKE else 10)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/reconcile.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    from trading.market.calendar import nyse

    nyse()  # built once per process (about 1.5 s): not part of a run
    old_name = settings.DATABASES["default"]["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with tempfile.TemporaryDirectory() as folder:
            inbox = Path(folder)
            rows = [
                run(max(args.accounts // 10, 10), args.positions, inbox),
                run(args.accounts, args.positions, inbox),
            ]
        print(
            f"{'accounts':>9} {'positions':>10} {'build s':>8} {'load s':>7} "
            f"{'reconcile s':>12} {'queries':>8}"
        )
        for row in rows:
            print(
                f"{row['accounts']:>9,} {row['positions']:>10,} {row['build_s']:>8.1f} "
                f"{row['load_s']:>7.1f} {row['reconcile_s']:>12.2f} {row['queries']:>8}"
            )
        small, large = rows
        print(
            f"queries at {large['accounts']:,} accounts / at {small['accounts']:,}: "
            f"{large['queries']} / {small['queries']}; reconcile time ratio "
            f"{large['reconcile_s'] / max(small['reconcile_s'], 1e-9):.1f}x for "
            f"{large['accounts'] / small['accounts']:.0f}x the accounts; breaks found "
            f"{large['breaks']}"
        )
        if large["queries"] != small["queries"]:
            sys.exit("the number of queries grew with the accounts")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
