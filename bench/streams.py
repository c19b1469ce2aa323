"""The trade updates stream under load: uvicorn (`rushtrade.asgi`, as `make run` starts
it) in its own process, with many WebSocket clients on /stream.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/streams.py \
        [--streams 100] [--accounts 20] [--events 20000] [--fills 200] [--fill-rate 50]

It creates (and drops) its own database, `<name>_bench_streams`, K accounts with an API
key each, and S clients (S/K per account) that authenticate and listen as alpaca-py does.
1. Fan-out: E order events (a real order's payload) written in transactions of 100 as fast
   as one writer can, spread over the accounts; events/s from the first write until every
   client has every event of its account, and messages/s (events x clients per account).
   Baseline in the same run: the writer alone (events/s written, no one listening).
2. Latency: F real fills (as `apply_execution_report` applies them, each in its own
   transaction) paced at `--fill-rate`/s; for each, the time from its commit (the first
   after-commit callback) to its `fill` message at the client: p50, p95, p99, max. A
   fill's event travels in its NOTIFY (the stream server reads nothing); the bulk events
   of part 1 are too many for a notification and are read from the table.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.orders import bench_database_url, free_port, recreate_database  # noqa: E402

# BENCH_SMOKE=1: a tiny run that only checks the script still works
# (tests/project/test_bench_smoke.py).
SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _client(url, key_id, secret, received, listening, fills):
    from websockets.asyncio.client import connect

    async with connect(url, max_size=2**22) as ws:
        auth = {"action": "authenticate", "data": {"key_id": key_id, "secret_key": secret}}
        await ws.send(json.dumps(auth))
        assert json.loads(await ws.recv())["data"]["status"] == "authorized"
        await ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(await ws.recv())["stream"] == "listening"
        with listening.get_lock():
            listening.value += 1
        while True:
            message = json.loads(await ws.recv())
            now = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
            with received.get_lock():
                received.value += 1
            data = message["data"]
            if data["event"] == "fill":
                fills.send((data["order"]["id"], now))


async def _pings(url, count, rate) -> list[float]:
    """Round trips of WebSocket pings, paced: answered by uvicorn's protocol layer with
    no application code, the machine's own delay (the baseline of the latency)."""
    from websockets.asyncio.client import connect

    times = []
    async with connect(url) as ws:
        start = time.monotonic()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            sent = time.monotonic()
            await (await ws.ping())
            times.append((time.monotonic() - sent) * 1000)
    return times


def run_clients(url, credentials, received, listening, fills, stop):
    """The WebSocket clients: a process of their own, so that their work and the
    writer's do not share one interpreter lock (the latency is the server's). Asked
    ("ping", count, rate) on the pipe, it measures pings and sends their times back."""

    async def main():
        tasks = [
            asyncio.create_task(_client(url, key_id, secret, received, listening, fills))
            for key_id, secret in credentials
        ]
        while not stop.is_set():
            if fills.poll():
                _, count, rate = fills.recv()
                fills.send(("pings", await _pings(url, count, rate)))
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


class Clients:
    """The client process, seen from the bench: counts and fill receipt times."""

    def __init__(self, url: str, credentials: list[tuple[str, str]]):
        context = multiprocessing.get_context("spawn")
        self._received = context.Value("q", 0)
        self._listening = context.Value("i", 0)
        self._stop = context.Event()
        self.fills: dict[str, float] = {}  # order id -> first fill message (monotonic)
        parent, child = context.Pipe()
        self.pings: list[float] | None = None
        self._fills = parent
        self.process = context.Process(
            target=run_clients,
            args=(url, credentials, self._received, self._listening, child, self._stop),
            daemon=True,
        )
        self.process.start()
        self._reader = threading.Thread(target=self._read_fills, daemon=True)
        self._reader.start()

    def _read_fills(self):
        while True:
            try:
                order_id, at = self._fills.recv()
            except (EOFError, OSError):
                return
            if order_id == "pings":
                self.pings = at
            else:
                self.fills.setdefault(order_id, at)

    def ping(self, count: int, rate: float) -> list[float]:
        self.pings = None
        self._fills.send(("ping", count, rate))
        assert wait_until(lambda: self.pings is not None, 120), "pings not answered"
        return self.pings

    @property
    def received(self) -> int:
        return self._received.value

    @property
    def listening(self) -> int:
        return self._listening.value

    def close(self):
        self._stop.set()
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=4 if SMOKE else 100)
    parser.add_argument("--accounts", type=int, default=2 if SMOKE else 20)
    parser.add_argument("--events", type=int, default=40 if SMOKE else 20000)
    parser.add_argument("--fills", type=int, default=4 if SMOKE else 200)
    parser.add_argument("--fill-rate", type=float, default=50.0)
    args = parser.parse_args()

    url, admin_url, name = bench_database_url("_bench_streams")
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
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection, transaction

    from accounts.api_keys.keys import create_api_key
    from accounts.events.models import AccountEvent
    from tests.factories import AccountFactory, fund
    from trading.market.models import Security
    from trading.orders import entry
    from trading.orders.executions import ExecutionReport, apply_report

    server = clients = None
    try:
        call_command("migrate", verbosity=0)
        Security.objects.create(
            symbol="BNCH", name="Bench Corp", exchange="NYSE", reference_price=Decimal("100")
        )
        accounts = [AccountFactory() for _ in range(args.accounts)]
        for account in accounts:
            fund(account, Decimal("50000.00"))
        keys = [create_api_key(account, None) for account in accounts]
        credentials = []
        for i in range(args.streams):
            key, secret = keys[i % len(keys)]
            credentials.append((key.key_id, secret))

        def place(account):
            return entry.place_order(
                account,
                None,
                symbol="BNCH",
                side="buy",
                order_type="limit",
                limit_price="100.00",
                time_in_force="day",
                qty=1,
            )[0]

        place(accounts[0])
        payload = AccountEvent.objects.filter(kind="order.pending_new").last().payload

        account_ids = [a.pk for a in accounts]
        table = AccountEvent._meta.db_table
        text = json.dumps(payload | {"event": "new"}, cls=DjangoJSONEncoder)

        def write_events(count: int, per_transaction: int = 100) -> float:
            """Commit `count` order events spread over the accounts, `per_transaction` a
            transaction (one INSERT each); seconds taken."""
            began = time.perf_counter()
            for start in range(0, count, per_transaction):
                end = min(count, start + per_transaction)
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {table} (account_id, kind, payload, created_at) "  # noqa: S608
                        "SELECT (%s::bigint[])[1 + g %% %s], 'order.new', %s::jsonb, now() "
                        "FROM generate_series(%s, %s) g",
                        [account_ids, len(account_ids), text, start, end - 1],
                    )
            return time.perf_counter() - began

        baseline = write_events(args.events)
        baseline_rate = args.events / baseline

        port = free_port()
        python = sys.executable
        log = tempfile.TemporaryFile()  # noqa: SIM115 (the server's output, shown if it fails)
        server = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [
                python,
                "-m",
                "uvicorn",
                "rushtrade.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--ws",
                "websockets-sansio",
            ],
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return False

        if not wait_until(up, 60):
            log.seek(0)
            sys.exit("uvicorn did not start: " + log.read().decode(errors="replace")[-3000:])
        clients = Clients(f"ws://127.0.0.1:{port}/stream", credentials)
        if not wait_until(lambda: clients.listening == args.streams, 60):
            sys.exit(f"only {clients.listening} of {args.streams} streams listening")

        per_account = [0] * len(accounts)
        for i in range(args.streams):
            per_account[i % len(accounts)] += 1
        # Messages: each event goes to every stream of its account.
        expected = sum(per_account[i % len(accounts)] for i in range(args.events))
        before = clients.received
        began = time.perf_counter()
        writing = write_events(args.events)
        done = wait_until(lambda: clients.received - before >= expected, 120)
        elapsed = time.perf_counter() - began
        got = clients.received - before
        assert done, f"{got} of {expected} messages arrived"

        # Latency: real fills, each committed on its own, paced.
        orders = [place(accounts[i % len(accounts)]) for i in range(args.fills)]
        committed: dict[str, float] = {}
        interval = 1 / args.fill_rate
        start = time.perf_counter()
        for i, order in enumerate(orders):
            time.sleep(max(0.0, start + i * interval - time.perf_counter()))
            # apply_execution_report's own transaction, with the commit's time taken by
            # the first after-commit callback (before the fill's e-mail is queued).
            with transaction.atomic():
                transaction.on_commit(
                    lambda uuid=str(order.uuid): committed.__setitem__(uuid, time.monotonic())
                )
                apply_report(
                    ExecutionReport(
                        exec_id=f"F{order.pk}",
                        cl_ord_id=order.cl_ord_id,
                        exec_type="2",
                        ord_status="2",
                        last_qty=1,
                        last_px=Decimal("100.00"),
                        cum_qty=1,
                    )
                )
        ids = list(committed)
        assert wait_until(lambda: all(i in clients.fills for i in ids), 60), "fills missing"
        latencies = [(clients.fills[i] - committed[i]) * 1000 for i in ids]
        pings = clients.ping(len(ids), args.fill_rate)

        print(
            f"PostgreSQL; uvicorn 1 process; {args.streams} streams on {args.accounts} "
            f"accounts ({args.streams / args.accounts:.0f} per account); {args.events} events"
        )
        print(
            f"baseline: committing events (100 a transaction), no one listening "
            f"{baseline_rate:8.0f} events/s"
        )
        print(
            f"fan-out: committed and delivered to every stream {args.events / elapsed:8.0f} "
            f"events/s ({got / elapsed:.0f} messages/s; committing took {writing:.2f} s "
            f"of {elapsed:.2f} s; ratio to baseline {args.events / elapsed / baseline_rate:.2f})"
        )
        print(
            f"fill applied -> WebSocket message ({len(latencies)} fills at "
            f"{args.fill_rate:.0f}/s): p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {percentile(latencies, 0.95):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
            f"max {max(latencies):.1f} ms"
        )
        print(
            f"baseline: WebSocket ping round trip (as many, as paced): "
            f"p50 {statistics.median(pings):.1f} ms, p95 {percentile(pings, 0.95):.1f} ms, "
            f"p99 {percentile(pings, 0.99):.1f} ms, "
            f"max {max(pings):.1f} ms (load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores)"
        )
    finally:
        if clients is not None:
            clients.close()
        if server is not None:
            server.terminate()
            server.wait(30)
        connection.close()
        recreate_database(admin_url, name, drop_only=True)


if __name__ == "__main__":
    main()
