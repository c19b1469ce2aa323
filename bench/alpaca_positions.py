"""GET /v2/positions (the Alpaca-compatible API) for an account with 500 positions:
p50/p99 latency, requests per second (one client, in process) and SQL queries, against
the same account with 5 positions and GET /v2/clock (authentication and rate limit
alone) measured in the same run as baselines.

    DATABASE_URL=postgres://... REDIS_URL=redis://... DEBUG=1 \
        .venv/bin/python bench/alpaca_positions.py

Builds its own throw-away test database (test_<name>), never touches the real one.
Quotes come from the simulated market through the quote cache (Redis with REDIS_URL).
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
os.environ["ALPACA_RATE_LIMIT"] = "100000000"  # measure the endpoint, not the limiter

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from holdings import account_with_positions  # noqa: E402

# BENCH_SMOKE=1: a tiny run that only checks the script still works
# (tests/project/test_bench_smoke.py).
SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def build(positions: int, number: str):
    from accounts.api_keys import keys

    account, user = account_with_positions(positions, number, number[-3:])
    key, secret = keys.create_api_key(account, user)
    return Client(HTTP_APCA_API_KEY_ID=key.key_id, HTTP_APCA_API_SECRET_KEY=secret)


def measure(func, repeat: int) -> dict:
    samples = []
    started = time.perf_counter()
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    elapsed = time.perf_counter() - started
    with CaptureQueriesContext(connection) as ctx:
        func()
    return {
        "p50": statistics.median(samples),
        "p99": percentile(samples, 99),
        "rps": repeat / elapsed,
        "queries": len(ctx.captured_queries),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--positions", type=int, default=20 if SMOKE else 500)
    parser.add_argument("--repeat", type=int, default=3 if SMOKE else 300)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        big = build(args.positions, "RT10000008")
        small = build(5, "RT10000016")
        if connection.vendor == "postgresql":
            connection.cursor().execute("ANALYZE")
        response = big.get("/v2/positions")
        assert response.status_code == 200 and len(response.json()) == args.positions
        assert len(small.get("/v2/positions").json()) == 5
        cases = {
            "baseline: GET /v2/clock": lambda: small.get("/v2/clock"),
            "GET /v2/positions, 5 positions": lambda: small.get("/v2/positions"),
            f"GET /v2/positions, {args.positions} positions": lambda: big.get("/v2/positions"),
        }
        print(
            f"database: {connection.vendor}; cache: {os.environ.get('REDIS_URL') or 'files'}; "
            f"{args.repeat} sequential requests each, in process"
        )
        print(
            f"{'what':<36} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'queries':>8} "
            f"{'p50 x baseline':>15}"
        )
        baseline = None
        for name, func in cases.items():
            for _ in range(5):
                func()  # warm
            result = measure(func, args.repeat)
            baseline = baseline or result["p50"]
            print(
                f"{name:<36} {result['p50']:>8.2f} {result['p99']:>8.2f} {result['rps']:>8.1f} "
                f"{result['queries']:>8} {result['p50'] / baseline:>15.2f}"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
