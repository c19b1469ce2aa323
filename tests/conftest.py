import os
import shutil
import socket
import subprocess
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# The ASGI server fixture (`asgi_server`): uvicorn in the test process.
pytest_plugins = ["tests.asgi_server"]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
QUICKFIX_RUNNING = False  # set when a test starts the shared routing engine simulator
_EXIT_STATUS = 0


# --- Hypothesis: the same examples on every run, and no timing-based failures -----------
# A loaded 2-core machine made "input generation is slow" (HealthCheck.too_slow) fail a
# test once. The profile is loaded for every run (pytest --hypothesis-profile=... may pick
# another registered one): seeds derived from each test (derandomize), no deadline, no
# example database, and the health checks that measure time or size suppressed.
# Its caches (constants, unicode data) under var/ rather than .hypothesis/ in the checkout.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY",
    str(Path(__file__).resolve().parent.parent / "var" / "hypothesis"),
)
hypothesis_settings.register_profile(
    "rushtrade",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.load_profile("rushtrade")


def pytest_collection_modifyitems(config, items):
    """A test's own @settings(suppress_health_check=[...], deadline=...) replaces the
    profile's values instead of adding to them: keep the profile's as a floor, so no test
    can turn the timing-based checks back on."""
    floor = hypothesis_settings.default
    for item in items:
        test = getattr(item, "obj", None)
        if not getattr(test, "is_hypothesis_test", False):
            continue
        test = getattr(test, "__func__", test)  # a test method: its function
        # Where @given and @settings keep the test's settings (read when the test runs).
        own = test._hypothesis_internal_use_settings
        test._hypothesis_internal_use_settings = hypothesis_settings(
            own,
            deadline=floor.deadline,
            derandomize=floor.derandomize,
            suppress_health_check={*own.suppress_health_check, *floor.suppress_health_check},
        )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "bench: runs a bench/ script at a tiny size (tests/project/test_bench_smoke.py)"
    )


# --- end of the hypothesis profile and the bench marker ----------------------------------


def pytest_sessionstart(session):
    """In CI the suite runs on PostgreSQL and Redis, or not at all: never a quiet fallback."""
    if os.environ.get("RUSHTRADE_REQUIRE_SERVICES") != "1":
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"RUSHTRADE_REQUIRE_SERVICES=1 but the database is {engine}")
    if not settings.REDIS_URL:
        raise pytest.UsageError("RUSHTRADE_REQUIRE_SERVICES=1 but REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise pytest.UsageError(f"Redis at {settings.REDIS_URL} is unreachable: {exc}") from exc


def pytest_sessionfinish(session, exitstatus):
    global _EXIT_STATUS
    _EXIT_STATUS = int(exitstatus)


def pytest_unconfigure(config):
    """With the shared QuickFIX acceptor still running (tests/routing/test_routing.py), leave
    without running its C++ destructors, which crash at interpreter exit; the summary
    has been printed and the exit status is pytest's own."""
    if QUICKFIX_RUNNING:
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters and quotes live in caches; each test starts from none."""
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ACH_SIMULATOR = False  # tests move transfers themselves


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run inline in tests (the worker process is exercised by `make run`)."""
    from rushtrade.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _market_data_overrides():
    """Prices pinned with trading.market.market_data.set_quote_override last for one test."""
    yield
    from trading.market.market_data import clear_quote_overrides

    clear_quote_overrides()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_server():
    """A Redis server of the test's own, which the test may stop."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed for this test (Debian package redis-server)"
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process = proc

        def stop(self):
            proc.terminate()
            proc.wait(timeout=10)

    yield Server()
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright (Playwright's own browser download is not used)."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), f"{CHROMIUM} not found: apt-get install chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def market(monkeypatch):
    """Pinned quotes (a one-cent spread, 100 shares each side) and session state for the
    simulated market, seen by every thread of the test process (the order services and
    an in-process routing engine)."""
    from trading.market import market_data

    D = Decimal

    class Market:
        open = True
        last = {}

        def quote(self, symbol):
            if symbol not in self.last:
                return None
            last = self.last[symbol]
            return market_data.Quote(
                symbol=symbol,
                bid=last - D("0.01"),
                ask=last + D("0.01"),
                last=last,
                bid_size=100,
                ask_size=100,
                volume=1000,
                timestamp=datetime.now(),
                market_open=self.open,
            )

    m = Market()
    m.last = {}
    monkeypatch.setattr(market_data, "get_quote", m.quote)
    monkeypatch.setattr(
        market_data, "get_quotes", lambda symbols: {s: m.quote(s) for s in symbols if m.quote(s)}
    )
    monkeypatch.setattr(market_data, "is_market_open", lambda at=None: m.open)
    return m


@pytest.fixture
def acme(market):
    """A tradable security, ACME, quoted at $100.00 by the pinned market."""
    from trading.market.models import Security

    market.last["ACME"] = Decimal("100.00")
    return Security.objects.create(
        symbol="ACME", name="Acme Corp", exchange="NYSE", reference_price=Decimal("100.00")
    )


@pytest.fixture(scope="session")
def shared_engine(tmp_path_factory, django_db_setup):
    global QUICKFIX_RUNNING
    from tests.routing.routing_support import SharedEngine

    engine = SharedEngine(tmp_path_factory.mktemp("routing-engine"))
    QUICKFIX_RUNNING = True
    yield engine
    engine.close_database()


@pytest.fixture
def pair(tmp_path, shared_engine):
    from tests.routing.routing_support import Pair

    p = Pair(tmp_path, shared_engine)
    yield p
    p.stop()
