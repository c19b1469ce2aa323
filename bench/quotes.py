"""Quotes of the simulated market: time of get_quote and get_quotes (100 symbols) from
the cache, past the cache (a new 5-second bucket: one query, then the random walk),
and cold (a new day, so the process also builds the day's path), against reading the
security's row with the ORM as the baseline measured in the same run.

    DEBUG=1 [DATABASE_URL=postgres://... REDIS_URL=redis://...] .venv/bin/python bench/quotes.py

Builds its own throw-away test database (test_<name>), never touches the real one; the
cache (files under var/cache, or Redis) gets a few short-lived keys.
"""

import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rushtrade.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

# BENCH_SMOKE=1: a tiny run that only checks the script still works
# (tests/project/test_bench_smoke.py).
REPEAT = 3 if os.environ.get("BENCH_SMOKE") == "1" else 200


def timed(func, repeat=REPEAT) -> tuple[float, float]:
    samples = []
    for i in range(repeat):
        start = time.perf_counter()
        func(i)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


def main():
    from trading.market import market_data
    from trading.market.models import Security
    from trading.market.securities import load_securities

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        load_securities()
        symbols = list(Security.objects.values_list("symbol", flat=True)[:100])
        session_open = datetime(2026, 11, 24, 9, 30, tzinfo=ZoneInfo("America/New_York"))

        def bucket(i):  # a new 5-second bucket each call: past the cache
            return session_open + timedelta(seconds=5 * i)

        rows = [
            ("ORM: Security.objects.get (baseline)", lambda i: Security.objects.get(symbol="AAPL")),
            ("get_quote, cached", lambda i: market_data.get_quote("AAPL", session_open)),
            ("get_quote, past the cache", lambda i: market_data.get_quote("AAPL", bucket(i + 1))),
            (
                "get_quote, cold (new day: builds the path)",
                lambda i: market_data.get_quote("MSFT", session_open + timedelta(days=7 * i)),
            ),
            ("get_quote, now", lambda i: market_data.get_quote("AAPL")),
            ("get_quotes x100, cached", lambda i: market_data.get_quotes(symbols, session_open)),
            (
                "get_quotes x100, past the cache",
                lambda i: market_data.get_quotes(symbols, bucket(10_000 + i)),
            ),
        ]
        market_data.get_quote("AAPL", session_open)
        market_data.get_quotes(symbols, session_open)
        cache = type(market_data.quote_cache()).__name__
        print(f"database {connection.vendor}, cache {cache}, median/min of {REPEAT} (ms)")
        baseline, _ = timed(rows[0][1])
        for name, func in rows:
            median, fastest = timed(func, REPEAT if "cold" not in name else min(REPEAT, 30))
            print(f"{name:<45} {median:8.3f} {fastest:8.3f}   x{median / baseline:.1f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
