"""Every bench/ script runs, at a tiny size (BENCH_SMOKE=1), so a benchmark that no
longer runs fails the suite instead of rotting unseen. Its figures are not looked at.

Each script runs as `make bench` runs it: its own process, its own throw-away database
(on PostgreSQL, named after the run's database plus `_smoke_<script>`, so never the
suite's own test database nor another script's), its own var/ folder (cache files,
SQLite). The scripts that need PostgreSQL (bench/orders.py, bench/applier.py,
bench/monthly_statistics.py, bench/reconcile.py, bench/streams.py)
run when DATABASE_URL is one.
"""

import contextlib
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
# The scripts, not the helpers they share (bench/holdings.py).
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if "__main__" in p.read_text())
NEEDS_POSTGRESQL = {
    "applier.py",
    "monthly_statistics.py",
    "orders.py",
    "reconcile.py",
    "streams.py",
}
PARALLEL = 3

pytestmark = pytest.mark.bench


def test_every_script_is_here():
    assert {p.name for p in SCRIPTS} >= NEEDS_POSTGRESQL | {"quotes.py", "balances.py"}


def run(script: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = os.environ | {
        "BENCH_SMOKE": "1",
        "DEBUG": "1",
        "RUSHTRADE_VAR_DIR": str(tmp_path / "var"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the script's own default
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        parts = urlsplit(database_url)
        name = f"{parts.path.lstrip('/') or 'postgres'}_smoke_{script.stem}"
        env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    # Its own process group, so that a run killed at the timeout takes the processes it
    # started (gunicorn, the gateway, the engine) with it.
    process = subprocess.Popen(
        [sys.executable, "-u", str(script)],  # unbuffered: a timeout still shows how far
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        # Generous: bench/orders.py starts gunicorn, a gateway and the engine on a new
        # database, and on a busy 2-core machine that alone has taken 2.5 minutes.
        stdout, stderr = process.communicate(timeout=1200)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        stderr += "\n(killed at the 20-minute timeout)"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything it left running
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def drop_smoke_databases(database_url: str) -> None:
    """The databases an earlier run left (`<db>_smoke_<script>` and what each script makes
    from that name): every run starts from new ones, so that a database migrated by an
    older tree cannot fail, or pass, this one."""
    import psycopg

    parts = urlsplit(database_url)
    prefix = f"{parts.path.lstrip('/') or 'postgres'}_smoke_"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        names = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix]
        ).fetchall()
        for (name,) in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """All the scripts started at once, a few at a time (each spends most of its time
    starting Django and migrating its new database); each test waits for its own."""
    postgresql = os.environ.get("DATABASE_URL", "").startswith("postgres")
    if postgresql:
        drop_smoke_databases(os.environ["DATABASE_URL"])
    runnable = [s for s in SCRIPTS if postgresql or s.name not in NEEDS_POSTGRESQL]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        # The longest first: bench/orders.py starts gunicorn, the gateway and the engine.
        runnable.sort(key=lambda s: s.name != "orders.py")
        yield {s.name: pool.submit(run, s, tmp_path_factory.mktemp(s.stem)) for s in runnable}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_bench_script_runs_at_smoke_size(script, runs):
    if script.name not in runs:
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    result = runs[script.name].result()
    assert result.returncode == 0, (
        f"{script.name} exited with {result.returncode}\n"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-5000:]}"
    )
