"""Production settings: `manage.py check --deploy` reports nothing."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_clean_under_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        SECRET_KEY="x7$Kq!v2m#pR9sLw@eT4yB8nZ0cF6hJ3uA1dG5iO-Production-Grade-Key",
        ALLOWED_HOSTS="portal.rushtrade.example",
        FIELD_ENCRYPTION_KEYS="Rk9SLVRFU1RTLU9OTFktMzItYnl0ZXMtbG9uZy1rZXk=",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check", ALLOWED_HOSTS="portal.rushtrade.example")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    result = run_manage(
        "check",
        ALLOWED_HOSTS="portal.rushtrade.example",
        SECRET_KEY="x7$Kq!v2m#pR9sLw@eT4yB8nZ0cF6hJ3uA1dG5iO-Production-Grade-Key",
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr
