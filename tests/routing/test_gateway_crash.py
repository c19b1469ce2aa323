"""The routing gateway and the routing engine simulator as separate processes, as in
production (`manage.py run_gateway`, `manage.py run_routing_engine`), and the gateway
killed with SIGKILL while orders and fills are in flight."""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from accounts.money import ledger
from tests.conftest import free_port
from tests.factories import AccountFactory, fund
from trading.market.models import Security
from trading.orders import entry
from trading.orders.models import (
    Execution,
    ExecutionReportLog,
    Order,
    OrderStatus,
    OutboxMessage,
    Position,
)
from trading.routing import gateway
from trading.routing.models import RoutingSession

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]
D = Decimal


class Processes:
    """`manage.py run_routing_engine` and `manage.py run_gateway` on the test database."""

    def __init__(self, tmp_path):
        db = settings.DATABASES["default"]
        url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
        url += f":{db['PORT'] or 5432}/{db['NAME']}"
        self.env = os.environ | {
            "DEBUG": "1",
            "DATABASE_URL": url,
            "ROUTING_ENGINE_HOST": "127.0.0.1",
            "ROUTING_ENGINE_PORT": str(free_port()),
            "FIX_STORE_DIR": str(tmp_path / "store"),
            "FIX_LOG_DIR": str(tmp_path / "log"),
            "FIX_HEARTBEAT_INTERVAL": "5",
            "FIX_RECONNECT_INTERVAL": "1",
            "MARKET_DATA_PROVIDER": "tests.fixed_market.AlwaysOpenMarket",
            "PYTHONUNBUFFERED": "1",  # what a process printed is in its .out at once
            "PYTHONFAULTHANDLER": "1",  # SIGABRT prints every thread's stack (output())
        }
        self.tmp = tmp_path
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> subprocess.Popen:
        command = {"engine": "run_routing_engine", "gateway": "run_gateway"}[name]
        out = open(self.tmp / f"{name}.out", "a")  # noqa: SIM115 (closed with the process)
        self.running[name] = subprocess.Popen(
            [sys.executable, "manage.py", command],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        return self.running[name]

    def kill(self, name: str) -> None:
        proc = self.running.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.running.values():
            proc.terminate()
        for proc in self.running.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.running.clear()

    def output(self) -> str:
        """What the processes printed, after each still running has printed where its
        threads are (faulthandler on SIGABRT): called when a wait failed."""
        for proc in self.running.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGABRT)
                proc.wait(10)
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-8000:]}" for path in self.tmp.glob("*.out")
        )


@pytest.fixture
def processes(tmp_path):
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture
def acme(market):
    market.last["ACME"] = D("50.00")  # what the order checks see; the engine quotes the same
    return Security.objects.create(
        symbol="ACME", name="Acme Corp", exchange="NYSE", reference_price=D("50.00")
    )


def place(account, qty):
    return entry.place_order(
        account,
        account.holders.get(),
        symbol="ACME",
        side="buy",
        order_type="market",
        time_in_force="day",
        qty=qty,
    )[0]


def logged_on_since(since):
    """The gateway process has logged on since `since` (it writes its RoutingSession)."""
    return RoutingSession.objects.filter(logged_on=True, logged_on_at__gte=since).exists()


# A process start imports Django and the whole portal: seconds on a quiet machine, far
# more on a busy one. The deadline is for that; the order waits below start after it.
STARTED_WITHIN = 240


def test_gateway_killed_mid_flight_loses_nothing_and_applies_nothing_twice(processes, acme):
    account = AccountFactory()
    fund(account, D("50000.00"))
    started = timezone.now()
    processes.start("engine")
    processes.start("gateway")
    assert gateway.wait_for(lambda: logged_on_since(started), STARTED_WITHIN), processes.output()
    first = place(account, 1)
    assert gateway.wait_for(
        lambda: Order.objects.get(pk=first.pk).status == OrderStatus.FILLED, 60
    ), processes.output()

    # A burst, one of them large enough to fill in parts over five engine ticks (100
    # shares a second), so that it is still open when the gateway is killed while it is
    # sending and applying.
    burst = [place(account, qty) for qty in [*range(1, 26), 450]]
    assert gateway.wait_for(
        lambda: OutboxMessage.objects.filter(sent_at__isnull=False).count() >= 8, 30
    ), processes.output()
    processes.kill("gateway")
    in_flight = Order.objects.exclude(status=OrderStatus.FILLED).count()
    assert in_flight > 0  # the kill came before the burst was through
    print(f"in flight at the kill: {in_flight} of {len(burst)}")
    # Orders placed while no gateway runs wait in the outbox.
    waiting = [place(account, qty) for qty in (3, 4, 5)]
    time.sleep(1)
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in waiting])} == {
        OrderStatus.PENDING_NEW
    }

    restarted = timezone.now()
    processes.start("gateway")
    assert gateway.wait_for(lambda: logged_on_since(restarted), STARTED_WITHIN), processes.output()
    everything = [first, *burst, *waiting]
    assert gateway.wait_for(
        lambda: Order.objects.filter(status=OrderStatus.FILLED).count() == len(everything), 90
    ), f"{in_flight} were in flight\n" + processes.output()

    total = sum(o.qty for o in everything)
    for order in Order.objects.all():
        assert order.filled_qty == order.qty
        assert order.executions.aggregate(q=Sum("qty"))["q"] == order.qty
    assert Execution.objects.aggregate(q=Sum("qty"))["q"] == total
    assert Execution.objects.count() == len(everything) + 4  # 450 shares: 4 x 100 + 50
    assert Position.objects.get(account=account).qty == total
    assert ExecutionReportLog.objects.count() >= Execution.objects.count()
    balances = ledger.account_balances(account)
    spent = sum(e.qty * e.price + e.commission + e.fees for e in Execution.objects.all())
    assert balances.cash == D("50000.00") - spent
    assert balances.holds == 0
    assert ledger.verify_balances() == []
