"""Every bench/ script runs, at a tiny size (BENCH_SMOKE=1), so a benchmark that no
longer runs fails the suite instead of rotting unseen. Its figures are not looked at.

Each script runs as `make bench` runs it: its own process, its own throw-away database
(on PostgreSQL, named after the run's database plus `_smoke_<script>`, so never the
suite's own test database nor another script's), its own var/ folder (cache files,
SQLite). The scripts that need PostgreSQL (bench/orders.py, bench/applier.py,
bench/monthly_statistics.py, bench/reconcile.py, bench/streams.py)
run when DATABASE_URL is one.
"""

import os
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
    return subprocess.run(
        [sys.executable, "-u", str(script)],  # unbuffered: a timeout still shows how far
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        # Generous: bench/orders.py starts gunicorn, a gateway and the engine on a new
        # database, and on a busy 2-core machine that alone has taken 2.5 minutes.
        timeout=1200,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """All the scripts started at once, a few at a time (each spends most of its time
    starting Django and migrating its new database); each test waits for its own."""
    postgresql = os.environ.get("DATABASE_URL", "").startswith("postgres")
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
