"""The account overview page (and its 5-second positions refresh) for an account with
500 positions, on the configured database: p50/p99 latency, requests per second from one
client, and SQL queries per request; the same page for 5 positions in the same run as
the baseline.

    DATABASE_URL=postgres://... REDIS_URL=redis://... DEBUG=1 .venv/bin/python bench/overview.py

Builds its own throw-away test database (test_<name>), never touches the real one.
Quotes come from the simulated market through the quote cache (Redis when REDIS_URL is
set), as in production.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rushtrade.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from holdings import account_with_positions  # noqa: E402

# BENCH_SMOKE=1: a tiny run that only checks the script still works
# (tests/project/test_bench_smoke.py).
SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def account_with(n: int, account_number: str, symbol_prefix: str):
    account, user = account_with_positions(n, account_number, symbol_prefix, deposit="25000.00")
    client = Client()
    client.force_login(user)
    return account, client


def count_queries(client, url, headers) -> int:
    """SQL queries of one request (Django resets the query log when a request starts:
    not while counting)."""
    from django.core.signals import request_started
    from django.db import reset_queries

    request_started.disconnect(reset_queries)
    try:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, response.status_code
        return len(ctx.captured_queries)
    finally:
        request_started.connect(reset_queries)


def measure(client, url, seconds: float, headers=None):
    headers = headers or {}
    client.get(url, headers=headers)  # warm the quote cache
    queries = count_queries(client, url, headers)
    samples, began = [], time.perf_counter()
    while time.perf_counter() - began < seconds:
        start = time.perf_counter()
        client.get(url, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "rps": len(samples) / (time.perf_counter() - began),
        "queries": queries,
        "n": len(samples),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--positions", type=int, default=20 if SMOKE else 500)
    parser.add_argument("--seconds", type=float, default=0.2 if SMOKE else 10)
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        big, big_client = account_with(args.positions, "RT30005003", "B")
        small, small_client = account_with(5, "RT30000053", "S")
        print(
            f"database: {connection.vendor}; cache: "
            f"{'Redis' if os.environ.get('REDIS_URL') else 'local'}; one client, in process"
        )
        rows = []
        for label, account, client in (
            (f"{args.positions} positions", big, big_client),
            ("5 positions (baseline)", small, small_client),
        ):
            number = account.account_number
            rows.append(
                (f"overview page, {label}", measure(client, f"/account/{number}/", args.seconds))
            )
            rows.append(
                (
                    f"positions refresh (htmx), {label}",
                    measure(client, f"/account/{number}/portfolio", args.seconds),
                )
            )
        for label, r in rows:
            print(
                f"{label:48s} p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
                f"{r['rps']:6.1f} req/s  {r['queries']:2d} queries  ({r['n']} requests)"
            )
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
