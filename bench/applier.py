"""The inbox applier alone: how many execution reports a second one applier thread
applies, and how many SQL statements each costs, with no FIX session, web or engine in
the way (bench/orders.py measures the whole path).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/applier.py \
        [--orders N] [--accounts K] [--batch B]

It creates (and drops) its own database, `<name>_bench_applier`. For N orders (limit buy
1 @ $100 on K accounts), it stores N acknowledgements and N fills in the inbox as the
gateway would (the FIX text), then times `inbox.apply_pending` until all are applied.
Baseline in the same run: the same number of bare `INSERT`s of the inbox rows.
"""

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.orders import bench_database_url, recreate_database  # noqa: E402

# BENCH_SMOKE=1: a tiny run that only checks the script still works
# (tests/project/test_bench_smoke.py).
SMOKE = os.environ.get("BENCH_SMOKE") == "1"

SOH = "\x01"


def fix_text(fields: list[tuple[int, str]]) -> str:
    return SOH.join(f"{tag}={value}" for tag, value in fields) + SOH


def report(seq: int, order, exec_id: str, fill: bool) -> str:
    qty, price = order.qty, "100.00"
    return fix_text(
        [
            (8, "FIX.4.2"),
            (35, "8"),
            (34, str(seq)),
            (49, "ROUTER"),
            (56, "RUSHTRADE"),
            (37, f"O{order.pk}"),
            (11, order.cl_ord_id),
            (17, exec_id),
            (20, "0"),
            (150, "2" if fill else "0"),
            (39, "2" if fill else "0"),
            (55, "BNCH"),
            (54, "1"),
            (38, str(qty)),
            (32, str(qty) if fill else "0"),
            (31, price if fill else "0"),
            (151, "0" if fill else str(qty)),
            (14, str(qty) if fill else "0"),
            (6, price if fill else "0"),
            (60, "20261127-15:00:00.000"),
        ]
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20 if SMOKE else 2000)
    parser.add_argument("--accounts", type=int, default=4 if SMOKE else 50)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()

    url, admin_url, name = bench_database_url("_bench_applier")
    recreate_database(admin_url, name)
    os.environ.update(
        {
            "DEBUG": "1",
            "DATABASE_URL": url,
            "MARKET_DATA_PROVIDER": "tests.fixed_market.AlwaysOpenMarket",
            "DJANGO_SETTINGS_MODULE": "rushtrade.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.factories import AccountFactory, fund
    from trading.market.models import Security
    from trading.orders import entry
    from trading.routing import inbox

    try:
        call_command("migrate", verbosity=0)
        Security.objects.create(
            symbol="BNCH", name="Bench Corp", exchange="NYSE", reference_price=Decimal("100")
        )
        accounts = [AccountFactory() for _ in range(args.accounts)]
        for account in accounts:
            fund(account, Decimal("50000.00"))
        orders = []
        for i in range(args.orders):
            account = accounts[i % len(accounts)]
            orders.append(
                entry.place_order(
                    account,
                    None,
                    symbol="BNCH",
                    side="buy",
                    order_type="limit",
                    limit_price="100.00",
                    time_in_force="day",
                    qty=1,
                )[0]
            )
        session = "RUSHTRADE->ROUTER"
        messages = []
        for i, order in enumerate(orders):
            messages.append(report(2 * i + 1, order, f"A{i}", fill=False))
            messages.append(report(2 * i + 2, order, f"F{i}", fill=True))

        began = time.perf_counter()
        for raw in messages:
            inbox.store(session=session, raw=raw)
        storing = time.perf_counter() - began

        statements = 0

        def count(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            began = time.perf_counter()
            applied = 0
            while done := inbox.apply_pending(session, limit=args.batch):
                applied += done
            applying = time.perf_counter() - began
        from accounts.money import ledger
        from trading.orders.models import Order, OrderStatus

        filled = Order.objects.filter(status=OrderStatus.FILLED).count()
        assert filled == len(orders), f"{filled} of {len(orders)} filled"
        assert ledger.verify_balances() == []
        n = len(messages)
        print(
            f"PostgreSQL; {len(orders)} orders on {len(accounts)} accounts; "
            f"{n} reports (an ack and a fill each); batches of {args.batch}"
        )
        print(
            f"baseline: storing in the inbox        {n / storing:8.1f} reports/s "
            f"({storing * 1000 / n:.2f} ms each)"
        )
        print(
            f"applying                              {applied / applying:8.1f} reports/s "
            f"({applying * 1000 / applied:.2f} ms each; {len(orders) / applying:.1f} orders/s)"
        )
        print(
            f"statements per report                 {statements / applied:8.1f} "
            f"(ratio applying/storing: {applying / storing:.1f}x)"
        )
    finally:
        connection.close()
        recreate_database(admin_url, name, drop_only=True)


if __name__ == "__main__":
    main()
