"""The daily cycle by hand (manage.py clearing_cycle, run_clearing_firm) and as Celery
tasks, as `make run` and the beat schedule run them."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from trading.clearing import cycle
from trading.clearing.models import Break, ClearingFile, CorporateAction
from trading.market.calendar import is_trading_day
from trading.simulation import tasks as simulation_tasks
from trading.tasks import run_clearing_morning, write_clearing_files

from .conftest import open_account, trade

pytestmark = pytest.mark.django_db


def call(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_the_cycle_by_hand(acme):
    account = open_account()
    trade(account, "buy", 10, "100.00", "C1")
    today = timezone.localdate()
    assert "RUSH_TRADES_" in call("clearing_cycle", "evening")
    ex = today + timedelta(days=7)
    out = call(
        "run_clearing_firm",
        "--inject",
        "quantity_mismatch",
        "--dividend",
        f"ACME:0.25:{ex}:{ex + timedelta(days=2)}",
        "--split",
        f"ACME:3:2:{ex}",
    )
    assert "Injected" in out and "Announced DIV-ACME" in out and "Announced SPLIT-ACME" in out
    out = call("clearing_cycle", "morning")
    assert f"Reconciled {today}" in out
    assert set(Break.objects.values_list("kind", flat=True)) == {"trade_mismatch", "position"}
    assert CorporateAction.objects.count() == 2
    with pytest.raises(CommandError):
        call("run_clearing_firm", "--split", "ACME:two:1:2026-01-01")
    with pytest.raises(CommandError):
        call("clearing_cycle", "evening", "--date", "yesterday")


def test_the_beat_schedule_and_tasks(acme, settings):
    names = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "trading.tasks.write_clearing_files",
        "trading.tasks.run_clearing_morning",
        "trading.simulation.tasks.run_clearing_firm",
    } <= names
    open_account()
    today = timezone.localdate()
    written = write_clearing_files.apply().get()
    if is_trading_day(today):
        assert len(written) == 3
    else:
        assert written == [] and not ClearingFile.objects.exists()
        cycle.evening(today)  # the date given: written on any day
    answered = simulation_tasks.run_clearing_firm.apply(args=[today.isoformat()]).get()
    assert len(answered) == 4
    morning = run_clearing_morning.apply().get()
    assert morning["reconciled"] == [today.isoformat()]
    settings.CLEARING_SIMULATOR = False
    assert simulation_tasks.run_clearing_firm.apply().get() == []
