"""Orders per second placed through the API and carried to an applied fill, through the
routing gateway and the routing engine simulator, and p50/p99 latency from request to
fill applied. Every part runs as in production, each in its own process:

- web: gunicorn (`--workers`, default 2) serving the portal over HTTP;
- `manage.py run_gateway --no-applier` (the FIX session), `manage.py run_gateway
  --applier-only` (the inbox applier, a core of its own) and `manage.py
  run_routing_engine` on a loopback FIX session;
- K client threads in this process, each with its own funded account and API token,
  each POSTing marketable limit orders (buy 1 at $101, DAY) over a keep-alive HTTP
  connection as fast as the answers come.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/orders.py \
        [--orders N] [--clients K] [--workers W]

It creates (and drops) its own database, `<name>_bench_orders`, on that server. The market
is the always-open test market (tests/fixed_market.py: $100.00, a cent either side).
Baselines measured in the same run, same server: GET /api/v1/me (the web stack alone),
and placing orders with no gateway running.
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# BENCH_SMOKE=1: a tiny run that only checks the script still works
# (tests/project/test_bench_smoke.py).
SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def bench_database_url(suffix: str = "_bench_orders") -> tuple[str, str, str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL server (postgres://...)")
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "postgres") + suffix
    admin = urlunsplit(parts._replace(path="/postgres"))
    return urlunsplit(parts._replace(path="/" + name)), admin, name


def recreate_database(admin_url: str, name: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            c.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_accounts(n: int) -> list[tuple[str, str]]:
    """n funded cash accounts ($50,000 each); returns (account number, API token)."""
    from stdnum import luhn

    from accounts.money import funding
    from accounts.opening.models import Account, AccountHolder
    from accounts.users.models import User
    from accounts.users.tokens import issue_token
    from trading.market.models import Security

    Security.objects.create(
        symbol="BNCH", name="Bench Corp", exchange="NYSE", reference_price=Decimal("100")
    )
    from django.utils import timezone

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
        result.append((account.account_number, issue_token(user, "bench")[1]))
    return result


def fire(
    port: int, accounts, per_client: int, tag: str, order: bool = True, rate: float | None = None
):
    """Each client sends `per_client` requests one after another (closed loop), or, with
    `rate` (orders/s over all clients), each at its scheduled time whatever the answers
    (open loop, paced); returns ({order id: send time}, errors, seconds, request
    latencies in ms)."""
    starts, errors, latencies = {}, [], []
    lock = threading.Lock()

    def client_loop(number, token):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        offset = accounts.index((number, token)) / (rate or 1)
        for i in range(per_client):
            if rate:
                due = began + offset + i * len(accounts) / rate
                time.sleep(max(0.0, due - time.perf_counter()))
            sent, t0 = time.time(), time.perf_counter()
            if order:
                body = json.dumps(
                    {
                        "symbol": "BNCH",
                        "side": "buy",
                        "type": "limit",
                        "limit_price": "101.00",
                        "time_in_force": "day",
                        "qty": "1",
                        "client_order_id": f"{tag}-{number}-{i}",
                    }
                )
                conn.request("POST", f"/api/v1/accounts/{number}/orders", body, headers)
            else:
                conn.request("GET", "/api/v1/me", headers=headers)
            response = conn.getresponse()
            data = response.read()
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status not in (200, 201):
                    errors.append(data[:200])
                elif order:
                    starts[int(json.loads(data)["id"])] = sent
        conn.close()

    threads = [threading.Thread(target=client_loop, args=pair) for pair in accounts]
    began = time.perf_counter() + 0.05
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return starts, errors, time.perf_counter() - began, sorted(latencies)


def applied_fills(ids) -> dict[int, float]:
    """When each filled order's last fill was applied (the order row's last change), as
    Unix time; not TransactTime, which is when the engine filled it."""
    from trading.orders.models import Order, OrderStatus

    return {
        pk: at.timestamp()
        for pk, at in Order.objects.filter(pk__in=ids, status=OrderStatus.FILLED).values_list(
            "pk", "updated_at"
        )
    }


def pct(values, q):
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def stages(ids) -> dict[str, list[float]]:
    """Where the time of each filled order went, in ms, from the rows' own timestamps:
    placed (the order row) -> sent (its outbox row) -> fill received (stored in the
    inbox) -> applied (the order row's last change)."""
    from django.db.models import Max

    from trading.orders.models import Order, OrderStatus, OutboxMessage
    from trading.routing.models import InboundMessage

    orders = dict(
        Order.objects.filter(pk__in=ids, status=OrderStatus.FILLED).values_list("cl_ord_id", "pk")
    )
    rows = {
        pk: (created, updated)
        for pk, created, updated in Order.objects.filter(pk__in=orders.values()).values_list(
            "pk", "created_at", "updated_at"
        )
    }
    sent = dict(
        OutboxMessage.objects.filter(order_id__in=orders.values(), kind="new_order").values_list(
            "order_id", "sent_at"
        )
    )
    received = dict(
        InboundMessage.objects.filter(cl_ord_id__in=orders.keys(), msg_type="8")
        .values("cl_ord_id")
        .annotate(last=Max("received_at"))
        .values_list("cl_ord_id", "last")
    )
    result = {"placed -> sent": [], "sent -> fill received": [], "received -> applied": []}
    for cl_ord_id, pk in orders.items():
        created, updated = rows[pk]
        if sent.get(pk) is None or received.get(cl_ord_id) is None:
            continue
        moments = [created, sent[pk], received[cl_ord_id], updated]
        for stage, begin, end in zip(result, moments, moments[1:], strict=False):
            result[stage].append((end - begin).total_seconds() * 1000)
    return {k: sorted(v) for k, v in result.items()}


TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), 0 if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if int(text.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_by_process(procs, admin_url: str, name: str) -> dict[str, float]:
    """CPU seconds used so far by each process of the run (gunicorn: master and workers)
    and by PostgreSQL's backends serving the bench database."""
    import psycopg

    result = {}
    for key, proc in procs.items():
        pids = [proc.pid, *children_of(proc.pid)]
        result[key] = sum(cpu_seconds(pid) for pid in pids)
    with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as c:
        pids = [
            row[0]
            for row in c.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        ]
    result["postgres"] = sum(cpu_seconds(pid) for pid in pids)
    result["bench clients"] = cpu_seconds(os.getpid())
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=16 if SMOKE else 2000)
    parser.add_argument("--clients", type=int, default=2 if SMOKE else 8)
    parser.add_argument(
        "--workers", type=int, default=1 if SMOKE else 2, help="gunicorn worker processes"
    )
    args = parser.parse_args()

    url, admin_url, name = bench_database_url()
    recreate_database(admin_url, name)
    tmp = Path(tempfile.mkdtemp(prefix="bench-orders-"))
    fix_port, web_port = free_port(), free_port()
    from cryptography.fernet import Fernet

    env = os.environ | {
        # Production settings (DEBUG off), over plain HTTP on loopback.
        "DEBUG": "0",
        "SECRET_KEY": Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": url,
        "MARKET_DATA_PROVIDER": "tests.fixed_market.AlwaysOpenMarket",
        "ROUTING_ENGINE_HOST": "127.0.0.1",
        "ROUTING_ENGINE_PORT": str(fix_port),
        "FIX_STORE_DIR": str(tmp / "store"),
        "FIX_LOG_DIR": str(tmp / "log"),
        "FIX_RECONNECT_INTERVAL": "1",
        "DJANGO_SETTINGS_MODULE": "rushtrade.settings",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    procs: dict[str, subprocess.Popen] = {}

    def start(key, command):
        log = open(tmp / f"{key}.log", "w")  # noqa: SIM115 (lives as long as the process)
        procs[key] = subprocess.Popen(  # noqa: S603 (our own commands)
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    try:
        call_command("migrate", verbosity=0)
        accounts = make_accounts(args.clients)
        connection.close()
        per_client = args.orders // args.clients
        python = sys.executable
        start(
            "web",
            [
                str(Path(python).parent / "gunicorn"),
                "rushtrade.wsgi",
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{web_port}",
                "--log-level",
                "warning",
            ],
        )
        deadline = time.time() + 120  # Django's start takes a while on a loaded machine
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", web_port, timeout=1)
                probe.request("GET", "/healthz")
                probe.getresponse().read()
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("gunicorn did not start: " + (tmp / "web.log").read_text())
                time.sleep(0.2)

        _, errors, seconds, lat = fire(web_port, accounts, per_client // 2, "me", order=False)
        me_rate = len(lat) / seconds
        _, errors, seconds, place_lat = fire(web_port, accounts, per_client // 4, "base")
        place_rate = len(place_lat) / seconds
        base_errors = len(errors)
        from django.utils import timezone

        from trading.orders.models import Order, OrderStatus, OutboxMessage

        # The baseline's orders never route: out of the way of the run.
        OutboxMessage.objects.filter(sent_at__isnull=True).update(sent_at=timezone.now())
        Order.objects.filter(status=OrderStatus.PENDING_NEW).update(status=OrderStatus.CANCELED)

        start("engine", [python, "manage.py", "run_routing_engine"])
        start("gateway", [python, "manage.py", "run_gateway", "--no-applier"])
        start("applier", [python, "manage.py", "run_gateway", "--applier-only"])
        # Logged on when a first order fills.
        warm, _, _, _ = fire(web_port, accounts[:1], 1, "warm")
        deadline = time.time() + 180
        while not Order.objects.filter(pk__in=list(warm), status=OrderStatus.FILLED).exists():
            if time.time() > deadline:
                sys.exit("no fill: " + (tmp / "gateway.log").read_text()[-2000:])
            time.sleep(0.2)

        cpu_before = cpu_by_process(procs, admin_url, name)
        began = time.perf_counter()
        starts, errors, placing, run_lat = fire(web_port, accounts, per_client, "run")
        ids = list(starts)
        deadline = time.time() + 300
        while time.time() < deadline:
            if Order.objects.filter(pk__in=ids, status=OrderStatus.FILLED).count() == len(ids):
                break
            time.sleep(0.1)
        total = time.perf_counter() - began
        cpu_after = cpu_by_process(procs, admin_url, name)
        filled = applied_fills(ids)
        latencies = sorted((filled[pk] - starts[pk]) * 1000 for pk in filled)
        end_to_end = len(filled) / total

        # Paced (open loop) at half the end-to-end rate: the latency a customer sees when
        # routing is not saturated.
        paced_rate = max(1.0, end_to_end / 2)
        paced_n = max(len(accounts), min(per_client * len(accounts), int(paced_rate * 20)))
        paced_starts, paced_errors, _, _ = fire(
            web_port, accounts, paced_n // len(accounts), "paced", rate=paced_rate
        )
        paced_ids = list(paced_starts)
        deadline = time.time() + 120
        while time.time() < deadline:
            done = Order.objects.filter(pk__in=paced_ids, status=OrderStatus.FILLED).count()
            if done == len(paced_ids):
                break
            time.sleep(0.1)
        paced_filled = applied_fills(paced_ids)
        paced = sorted((paced_filled[pk] - paced_starts[pk]) * 1000 for pk in paced_filled)
        paced_stages = stages(paced_ids)

        print(
            f"PostgreSQL; gunicorn {args.workers} workers; {args.clients} client threads; "
            f"{len(ids)} orders (limit buy 1 @ $101); errors: {base_errors} + {len(errors)}"
        )
        print(
            f"baseline GET /api/v1/me:              {me_rate:8.1f} req/s   "
            f"p50 {pct(lat, 0.5):6.1f} ms  p99 {pct(lat, 0.99):6.1f} ms"
        )
        print(
            f"baseline placing, no routing running: {place_rate:8.1f} orders/s "
            f"p50 {pct(place_lat, 0.5):6.1f} ms  p99 {pct(place_lat, 0.99):6.1f} ms"
        )
        print(
            f"placing while routing:                {len(ids) / placing:8.1f} orders/s "
            f"p50 {pct(run_lat, 0.5):6.1f} ms  p99 {pct(run_lat, 0.99):6.1f} ms"
        )
        print(
            f"placed and filled (end to end):       {end_to_end:8.1f} orders/s "
            f"({len(filled)} of {len(ids)} filled in {total:.1f} s)"
        )
        if latencies:
            print(
                f"latency request -> fill applied, saturated: p50 "
                f"{statistics.median(latencies):.1f} ms, p99 {pct(latencies, 0.99):.1f} ms, "
                f"max {latencies[-1]:.1f} ms"
            )
        if paced:
            print(
                f"latency request -> fill applied, paced at {paced_rate:.1f} orders/s "
                f"({len(paced)} of {len(paced_ids)} filled, errors {len(paced_errors)}): "
                f"p50 {statistics.median(paced):.1f} ms, p99 {pct(paced, 0.99):.1f} ms"
            )
        for stage, values in paced_stages.items():
            print(
                f"  paced, {stage + ':':24s} p50 {pct(values, 0.5):7.1f} ms  "
                f"p99 {pct(values, 0.99):7.1f} ms"
            )
        if filled:
            used = {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after}
            print(
                "CPU per order placed and filled (saturated run): "
                + ", ".join(f"{k} {v * 1000 / len(filled):.1f} ms" for k, v in used.items())
                + f"; total {sum(used.values()) * 1000 / len(filled):.1f} ms "
                f"(the machine has {os.cpu_count()} cores)"
            )
        print(
            f"ratios: end to end / GET baseline {end_to_end / me_rate:.0%}; "
            f"end to end / placing alone {end_to_end / place_rate:.0%}"
        )
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        connection.close()
        recreate_database(admin_url, name, drop_only=True)


if __name__ == "__main__":
    main()
