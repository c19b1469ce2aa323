"""Everything the embedded run (no DATABASE_URL, no REDIS_URL) writes lives under var/
(RUSHTRADE_VAR_DIR): the SQLite database, the file cache, the filesystem broker's
messages and its control folder (exchange tables, the workers' pidbox), the FIX stores and
logs. Checked in a process of its own with the embedded settings, whatever this run uses,
and from a working directory of its own, so anything written relative to it shows."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, os
from pathlib import Path
import django
django.setup()
from django.conf import settings
from kombu import Connection, Exchange, Queue
from rushtrade.celery import app

# Bind a queue to a fanout exchange, as a worker's pidbox does: the transport writes the
# exchange's table into its control folder.
options = app.conf.broker_transport_options
with Connection(app.conf.broker_url, transport_options=options) as conn:
    channel = conn.channel()
    Queue("probe", Exchange("probe", type="fanout"), channel=channel).declare()
    producer = conn.Producer(channel)
    producer.publish({"probe": 1}, exchange="probe", routing_key="")
    # The folders as the transport resolves them (its defaults are relative to the cwd).
    folders = {
        "data_folder_in": str(Path(channel.data_folder_in).resolve()),
        "data_folder_out": str(Path(channel.data_folder_out).resolve()),
        "control_folder": str(Path(channel.control_folder).resolve()),
    }
    if channel.store_processed:
        folders["processed_folder"] = str(Path(channel.processed_folder).resolve())
    channel.close()
print(json.dumps({
    "var_dir": str(settings.VAR_DIR),
    "broker_url": app.conf.broker_url,
    "folders": folders,
    "beat_scheduler": app.conf.beat_scheduler,
    "paths": {
        "database": str(settings.DATABASES["default"]["NAME"]),
        "cache": settings.CACHES["default"]["LOCATION"],
        "fix_store": str(settings.FIX_STORE_DIR),
        "fix_log": str(settings.FIX_LOG_DIR),
    },
    "cwd": sorted(os.listdir(".")),
}))
"""


def embedded_run(tmp_path):
    var = tmp_path / "var"  # made by the run itself (rushtrade/celery.py: the broker folder)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL") and not k.startswith("FIX_")
    }
    env |= {
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "rushtrade.settings",
        "RUSHTRADE_VAR_DIR": str(var),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return var, json.loads(result.stdout.strip().splitlines()[-1])


def under(path, directory) -> bool:
    return Path(path).resolve().is_relative_to(Path(directory).resolve())


def test_the_embedded_run_writes_only_under_var(tmp_path):
    var, run = embedded_run(tmp_path)
    assert run["var_dir"] == str(var)
    assert run["broker_url"] == "filesystem://"
    folders = run["folders"]
    for key, folder in folders.items():
        assert under(folder, var), (key, folder)
    for name, path in run["paths"].items():
        assert under(path, var), (name, path)
    # Beat keeps its schedule in the database, not in a celerybeat-schedule file.
    assert run["beat_scheduler"] == "django_celery_beat.schedulers:DatabaseScheduler"

    # What the broker wrote: the exchange table in the control folder, the message in the
    # data folder, all under var/; nothing in the working directory.
    assert (Path(folders["control_folder"]) / "probe.exchange").is_file()
    assert any(p.name.endswith(".probe.msg") for p in Path(folders["data_folder_in"]).iterdir())
    assert run["cwd"] == []
