"""One month's firm statistics over 10 million executions and 100,000 accounts on
PostgreSQL: `trading.statistics.month_figures` (and `compute_month`, which also upserts
the row) timed against the bare SQL aggregates the figures need, run in the same script.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rushtrade DEBUG=1 \\
        .venv/bin/python bench/monthly_statistics.py [--executions N] [--accounts N] [--months N]

Builds its rows with generate_series in a database of its own (<name>_bench, created and
migrated if missing, rebuilt with --rebuild), never the one named by DATABASE_URL. The
executions are spread evenly over --months months (default 12) ending with the measured
month, so the month holds executions / months of them.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rushtrade.settings")
os.environ.setdefault("DEBUG", "1")
# BENCH_SMOKE=1: a tiny run that only checks the script still works
# (tests/project/test_bench_smoke.py).
SMOKE = os.environ.get("BENCH_SMOKE") == "1"

MONTH = date(2026, 10, 1)


def bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (postgres://...).")
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench"
    import psycopg

    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


BUILD = """
TRUNCATE trading_monthlystatistics, trading_accountsnapshot, trading_execution,
    trading_order, trading_security, accounts_account RESTART IDENTITY CASCADE;

-- uuid (orders too): the public ids of trading/migrations/0009_public_ids.py.
INSERT INTO trading_security (uuid, symbol, name, exchange, isin, status, tradable, marginable,
    shortable, halted, is_etf, price_increment, reference_price)
SELECT gen_random_uuid(), 'B' || i, 'Bench ' || i, 'NYSE', '', 'active', true, true, false,
       false, false, 0.01, 10 + (i %% 490)
FROM generate_series(1, 500) i;

-- Accounts opened over the 3 years before the month's end; one in 33 closed at some point.
INSERT INTO accounts_account (account_number, account_type, status, opened_at, closed_at)
SELECT 'B' || lpad(i::text, 9, '0'), 'individual_cash',
       CASE WHEN i %% 33 = 0 THEN 'closed' ELSE 'active' END,
       %(end)s::timestamptz - (i %% 1095) * interval '1 day' - interval '1 hour',
       CASE WHEN i %% 33 = 0
            THEN %(end)s::timestamptz - (i %% 200) * interval '1 day' - interval '30 minutes'
       END
FROM generate_series(1, %(accounts)s) i;

INSERT INTO trading_order (uuid, client_order_id, request_hash, cl_ord_id, side, order_type,
    time_in_force, qty, status, filled_qty, held_amount, estimated_commission, reject_reason,
    notice, engine_order_id, created_at, updated_at, account_id, security_id)
SELECT gen_random_uuid(), 'c' || i, 'bench', 'B' || i,
       CASE WHEN i %% 3 = 0 THEN 'sell' ELSE 'buy' END,
       'market', 'day', 200, 'filled', 200, 0, 0, '', '', '', now(), now(),
       1 + (i::bigint * 7919) %% %(accounts)s, 1 + i %% 500
FROM generate_series(1, %(orders)s) i;

-- Two executions per order, the order's fills a few minutes apart, spread over the months.
INSERT INTO trading_execution (order_id, exec_id, report_key, qty, price, commission, fees,
    executed_at)
SELECT 1 + (i - 1) / 2, 'E' || i, 'bench:' || i, 100, 10 + (i %% 4900) / 10.0, 0, 0,
       %(end)s::timestamptz - interval '1 second'
           - ((%(orders)s - 1 - (i - 1) / 2)::float8 / %(orders)s)
             * (%(end)s::timestamptz - %(first)s::timestamptz)
           - (i %% 2) * interval '3 minutes'
FROM generate_series(1, %(executions)s) i;

INSERT INTO trading_accountsnapshot (account_id, date, cash, market_value, equity,
    net_transfers, positions, created_at)
SELECT a.id, %(as_of)s, 1000 + a.id %% 5000, 2000 + a.id %% 7000,
       3000 + a.id %% 5000 + a.id %% 7000, 1000, 3, now()
FROM accounts_account a
WHERE a.opened_at < %(end)s AND (a.closed_at IS NULL OR a.closed_at >= %(end)s);

VACUUM ANALYZE;
"""

# The bare SQL the month's figures need: what the function should cost at best.
BARE = [
    """SELECT COUNT(*) FILTER (WHERE opened_at < %(end)s
                                 AND (closed_at IS NULL OR closed_at >= %(end)s)),
              COUNT(*) FILTER (WHERE opened_at >= %(start)s AND opened_at < %(end)s),
              COUNT(*) FILTER (WHERE closed_at >= %(start)s AND closed_at < %(end)s)
       FROM accounts_account""",
    "SELECT SUM(equity) FROM trading_accountsnapshot WHERE date = %(as_of)s",
    """SELECT COUNT(DISTINCT order_id), SUM(qty), SUM(qty * price)
       FROM trading_execution WHERE executed_at >= %(start)s AND executed_at < %(end)s""",
]


def timed(func, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=2_000 if SMOKE else 10_000_000)
    parser.add_argument("--accounts", type=int, default=200 if SMOKE else 100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=1 if SMOKE else 5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = bench_database_url()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from trading.orders.models import Execution
    from trading.reporting.snapshots import last_trading_day_of_month
    from trading.reporting.statistics import add_months, compute_month, month_bounds, month_figures

    call_command("migrate", verbosity=0)
    start, end = month_bounds(MONTH)
    first, _ = month_bounds(add_months(MONTH, 1 - args.months))
    params = {
        "start": start,
        "end": end,
        "first": first,
        "as_of": last_trading_day_of_month(MONTH.year, MONTH.month),
        "accounts": args.accounts,
        "orders": args.executions // 2,
        "executions": args.executions,
    }
    # A smoke run always builds: a database left by an earlier run must not hide a schema
    # the build no longer fits.
    if SMOKE or args.rebuild or Execution.objects.count() != args.executions:
        print(f"Building {args.executions:,} executions, {args.accounts:,} accounts ...")
        began = time.perf_counter()
        with connection.cursor() as cursor:
            for statement in BUILD.split(";\n\n"):
                cursor.execute(statement, params)
        print(f"  built in {time.perf_counter() - began:.0f} s")

    def bare():
        with connection.cursor() as cursor:
            for sql in BARE:
                cursor.execute(sql, params)
                cursor.fetchall()

    month_executions = Execution.objects.filter(executed_at__gte=start, executed_at__lt=end).count()
    bare(), month_figures(MONTH)  # warm the cache alike
    bare_median, bare_best = timed(bare, args.repeat)
    figures_median, figures_best = timed(lambda: month_figures(MONTH), args.repeat)
    compute_median, compute_best = timed(lambda: compute_month(MONTH), args.repeat)
    figures = month_figures(MONTH)
    print(
        f"{MONTH:%B %Y}: {month_executions:,} of {args.executions:,} executions in the month, "
        f"{figures.trades:,} trades, {figures.shares_traded:,} shares, "
        f"{figures.accounts_open:,} accounts open, assets ${figures.customer_assets:,}"
    )
    print(f"  bare SQL aggregates    median {bare_median:.3f} s  best {bare_best:.3f} s")
    print(
        f"  month_figures()        median {figures_median:.3f} s  best {figures_best:.3f} s"
        f"  ratio {figures_median / bare_median:.2f}x"
    )
    print(
        f"  compute_month()        median {compute_median:.3f} s  best {compute_best:.3f} s"
        f"  ratio {compute_median / bare_median:.2f}x  (figures + upsert)"
    )


if __name__ == "__main__":
    main()
