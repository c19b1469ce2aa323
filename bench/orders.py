"""Orders per second through the API to an applied fill, via the FIX gateway and the
routing engine simulator, and p50/p99 latency from request to fill applied.

    DATABASE_URL=postgres://... DEBUG=1 .venv/bin/python bench/orders.py [--orders N] [--clients K]

Runs in one process: API requests through Django's test client (no HTTP server) from K
client threads, each for its own funded account; the gateway and the simulator on a
loopback FIX session in threads. The market is pinned open at $100. Builds and drops its
own test database. Baseline in the same run: placing the same orders with no routing.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rushtrade.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402


def pin_market():
    from trading import market_data

    def quote(symbol, at=None):
        last = Decimal("100.00")
        return market_data.Quote(
            symbol=symbol,
            bid=last - Decimal("0.01"),
            ask=last + Decimal("0.01"),
            last=last,
            bid_size=10_000,
            ask_size=10_000,
            volume=1,
            timestamp=datetime.now(),
            market_open=True,
        )

    market_data.get_quote = quote
    market_data.get_quotes = lambda symbols, at=None: {s: quote(s) for s in symbols}
    market_data.is_market_open = lambda at=None: True


def make_accounts(n):
    from django.utils import timezone
    from stdnum import luhn

    from accounts import funding
    from accounts.models import Account, AccountHolder, User
    from trading.models import Security

    Security.objects.create(
        symbol="BNCH", name="Bench Corp", exchange="NYSE", reference_price=Decimal("100")
    )
    result = []
    for i in range(n):
        user = User.objects.create_user(f"bench{i}@example.com", "bench-password-123")
        body = str(2_000_000 + i)
        account = Account.objects.create(
            account_number=f"RT{body}{luhn.calc_check_digit(body)}",
            account_type="individual_cash",
            opened_at=timezone.now(),
        )
        AccountHolder.objects.create(account=account, user=user)
        link = funding.link_bank(
            account,
            user,
            routing_number="021000021",
            bank_account_number="12345678",
            bank_account_type="checking",
        )
        transfer, _ = funding.request_transfer(
            account, user, direction="deposit", amount="50000", bank_link_id=link.pk
        )
        funding.complete_transfer(transfer)
        client = Client()
        client.force_login(user)
        result.append((account, client))
    return result


def fire(accounts, per_client, tag):
    starts, errors = {}, []
    lock = threading.Lock()

    def client_loop(account, client):
        url = f"/api/v1/accounts/{account.account_number}/orders"
        for i in range(per_client):
            t0 = time.perf_counter(), time.time()
            response = client.post(
                url,
                {
                    "symbol": "BNCH",
                    "side": "buy",
                    "type": "market",
                    "time_in_force": "day",
                    "qty": "1",
                    "client_order_id": f"{tag}-{account.pk}-{i}",
                },
                content_type="application/json",
            )
            if response.status_code != 201:
                errors.append(response.content[:200])
                continue
            with lock:
                starts[int(response.json()["id"])] = t0
        connections.close_all()

    threads = [threading.Thread(target=client_loop, args=pair) for pair in accounts]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return starts, errors, time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        pin_market()
        from tests.conftest import free_port
        from trading import gateway, routing_engine
        from trading.models import Order, OrderStatus, OutboxMessage

        accounts = make_accounts(args.clients)
        per_client = args.orders // args.clients

        # Baseline: placing alone (nothing routes them).
        starts, errors, placing = fire(accounts, per_client // 4, "base")
        baseline_rate = len(starts) / placing
        OutboxMessage.objects.filter(sent_at__isnull=True).update(sent_at=timezone.now())
        Order.objects.filter(status=OrderStatus.PENDING_NEW).update(status=OrderStatus.CANCELED)

        tmp = Path(tempfile.mkdtemp())
        port = free_port()
        engine_app, gateway_app = routing_engine.RoutingEngine(), gateway.Gateway()
        engine = routing_engine.start_engine(
            engine_app,
            routing_engine.engine_config(
                port=port, store_path=str(tmp / "es"), log_path=str(tmp / "el")
            ),
        )
        gw = gateway.start_engine(
            gateway_app,
            gateway.gateway_config(
                port=port,
                host="127.0.0.1",
                store_path=str(tmp / "gs"),
                log_path=str(tmp / "gl"),
                reconnect_interval=1,
            ),
        )
        stop = threading.Event()
        loops = [
            threading.Thread(target=gateway.serve, args=(stop, gateway_app)),
            threading.Thread(
                target=routing_engine.serve, args=(stop, engine_app), kwargs={"tick_seconds": 0.5}
            ),
        ]
        for loop in loops:
            loop.start()
        assert gateway_app.logged_on.wait(15)

        began = time.perf_counter()
        starts, errors, placing = fire(accounts, per_client, "run")
        ids = list(starts)
        deadline = time.time() + 120
        while time.time() < deadline:
            if Order.objects.filter(pk__in=ids, status=OrderStatus.FILLED).count() == len(ids):
                break
            time.sleep(0.2)
        total = time.perf_counter() - began
        filled = {
            o.pk: o.filled_at.timestamp()
            for o in Order.objects.filter(pk__in=ids, status=OrderStatus.FILLED)
        }
        latencies = sorted((filled[pk] - starts[pk][1]) * 1000 for pk in filled)
        stop.set()
        for loop in loops:
            loop.join()
        gw.close()
        engine.close()
        gateway_app.db.close()
        engine_app.db.close()

        print(
            f"database: {connection.vendor}; {args.clients} client threads, "
            f"{len(ids)} market orders of 1 share, errors: {len(errors)}"
        )
        print(f"baseline (placing only, no routing): {baseline_rate:8.1f} orders/s")
        print(f"placed through the API:              {len(ids) / placing:8.1f} orders/s")
        print(
            f"placed and filled (end to end):      {len(filled) / total:8.1f} orders/s "
            f"({len(filled)} of {len(ids)} filled in {total:.1f} s)"
        )
        if latencies:
            p50 = statistics.median(latencies)
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(
                f"latency request -> fill applied: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                f"max {latencies[-1]:.1f} ms"
            )
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
