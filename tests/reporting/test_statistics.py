"""Monthly firm statistics: figures computed from small hand-made data sets, the changes
against earlier months, recomputing, the schedule, the staff pages and the report."""

import csv
import io
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from tests.factories import AccountFactory, SecurityFactory, StaffFactory, UserFactory
from trading.reporting import statistics
from trading.reporting.models import AccountSnapshot, MonthlyStatistics
from trading.reporting.press_release import press_release
from trading.reporting.statistics import (
    StatisticsError,
    compute_month,
    month_report,
    parse_month,
    percent_change,
)
from trading.tasks import compute_monthly_statistics

from .test_snapshots import fill

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
D = Decimal
MARCH_2024, FEB_2025, MARCH_2025 = date(2024, 3, 1), date(2025, 2, 1), date(2025, 3, 1)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CHICAGO)


def snapshot(account, day: date, equity: str) -> None:
    AccountSnapshot.objects.create(
        account=account, date=day, cash=D(equity), market_value=D("0"), equity=D(equity)
    )


@pytest.fixture
def firm():
    """Four accounts around March 2025 (Chicago time), with month-end snapshots and fills.

    March 2025: open at end A, B, D = 3; opened B, D = 2; closed C = 1 (mid-month).
    Assets at the close of Mon 31 March: 1,000.50 + 2,000.25 + 0 = 3,000.75.
    Fills in March: order 1 (A) 10 @ 10.00 and 5 @ 10.50; order 2 (B) 3 @ 20.1234 at
    23:00 on the 31st (already April in UTC): 2 trades, 18 shares, $212.87.
    """
    a = AccountFactory(opened_at=at(date(2024, 3, 10)))
    b = AccountFactory(opened_at=at(date(2025, 3, 5)))
    c = AccountFactory(
        opened_at=at(date(2024, 6, 1)), closed_at=at(date(2025, 3, 20)), status="closed"
    )
    d = AccountFactory(opened_at=at(date(2025, 3, 31), 23, 30))  # April 1 in UTC
    AccountFactory(opened_at=at(date(2025, 4, 1), 0, 10))  # April
    # March 2024: only A (last trading day Thu 28 March, Good Friday after it).
    snapshot(a, date(2024, 3, 28), "500.00")
    # February 2025 (last trading day Fri 28 Feb): A and C.
    snapshot(a, date(2025, 2, 28), "1200.00")
    snapshot(c, date(2025, 2, 28), "300.00")
    snapshot(a, date(2025, 3, 28), "999.00")  # not the month's last trading day
    snapshot(a, date(2025, 3, 31), "1000.50")
    snapshot(b, date(2025, 3, 31), "2000.25")
    snapshot(d, date(2025, 3, 31), "0.00")
    acme = SecurityFactory(symbol="ACME")
    first = fill(a, acme, "buy", 10, "10.00", at(date(2025, 3, 10)))
    fill(a, acme, "buy", 5, "10.50", at(date(2025, 3, 10), 11), order=first.order)
    fill(b, acme, "sell", 3, "20.1234", at(date(2025, 3, 31), 23))
    fill(a, acme, "buy", 7, "11.00", at(date(2025, 4, 1), 0, 5))  # April
    fill(a, acme, "buy", 9, "9.00", at(date(2025, 2, 28), 23, 59))  # February
    return {"a": a, "b": b, "c": c, "d": d}


def test_month_figures_by_hand(firm):
    row = compute_month(MARCH_2025)
    assert (row.accounts_open, row.accounts_opened, row.accounts_closed) == (3, 2, 1)
    assert row.customer_assets == D("3000.75")
    assert row.assets_as_of == date(2025, 3, 31)
    assert (row.trades, row.shares_traded, row.dollar_volume) == (2, 18, D("212.87"))
    assert row.source == "schedule" and row.computed_by is None


def test_changes_against_the_month_before_and_the_year_before(firm):
    for month in (MARCH_2024, FEB_2025, MARCH_2025):
        compute_month(month)
    report = month_report(MARCH_2025)
    # Year before: A alone, $500.00, no trades.
    accounts = report.change("accounts_open", "year_ago")
    assert (accounts.earlier, accounts.amount, accounts.percent) == (1, 2, 200)
    assets = report.change("customer_assets", "year_ago")
    assert (assets.amount, assets.percent) == (D("2500.75"), 500)  # 500.15% printed 500%
    trades = report.change("trades", "year_ago")
    assert (trades.amount, trades.percent) == (2, None)  # nothing to compare with
    # Month before: A and C open, $1,500.00, one trade of 9 shares.
    assert report.change("accounts_open", "previous").percent == 50
    assert report.change("customer_assets", "previous").percent == 100  # 100.05%
    shares = report.change("shares_traded", "previous")
    assert (shares.earlier, shares.amount, shares.percent) == (9, 9, 100)
    closed = report.change("accounts_closed", "previous")
    assert (closed.earlier, closed.percent) == (0, None)


def test_a_decrease_is_a_negative_change(firm):
    compute_month(FEB_2025)
    compute_month(MARCH_2025)
    AccountSnapshot.objects.filter(date=date(2025, 3, 31)).update(equity=D("750.00"))
    compute_month(MARCH_2025)  # $2,250.00 against $1,500.00 ... now lower:
    AccountSnapshot.objects.filter(date=date(2025, 3, 31)).update(equity=D("100.00"))
    compute_month(MARCH_2025)
    assets = month_report(MARCH_2025).change("customer_assets", "previous")
    assert assets.amount == D("-1200.00") and assets.percent == -80


def test_the_first_month_has_no_earlier_month(firm):
    row = compute_month(MARCH_2024)
    report = month_report(MARCH_2024)
    assert row.accounts_open == 1 and row.customer_assets == D("500.00")
    assert report.previous is None and report.year_ago is None
    assert report.change("accounts_open", "year_ago") is None
    assert statistics.first_month() == MARCH_2024


def test_an_empty_month():
    row = compute_month(date(2023, 7, 1))
    assert (row.accounts_open, row.accounts_opened, row.accounts_closed, row.trades) == (0, 0, 0, 0)
    assert (row.customer_assets, row.shares_traded, row.dollar_volume) == (D("0.00"), 0, D("0.00"))
    assert row.assets_as_of == date(2023, 7, 31)


def test_assets_come_from_snapshots_taken_when_the_day_was_missed():
    account = AccountFactory(opened_at=at(date(2025, 1, 6)))
    from .test_snapshots import deposit

    deposit(account, "2500.00", date(2025, 1, 6))
    assert compute_month(date(2025, 1, 1)).customer_assets == D("2500.00")
    assert AccountSnapshot.objects.filter(date=date(2025, 1, 31)).count() == 1


def test_recompute_replaces_the_row_and_records_who(firm):
    first = compute_month(MARCH_2025)
    staff = StaffFactory()
    again = compute_month(MARCH_2025, by=staff, source=MonthlyStatistics.Source.STAFF)
    assert MonthlyStatistics.objects.filter(month=MARCH_2025).count() == 1
    assert again.pk == first.pk
    assert [getattr(again, f) for f in statistics.FIGURES] == [
        getattr(first, f) for f in statistics.FIGURES
    ]
    assert again.computed_by == staff and again.source == "staff"
    assert again.computed_at >= first.computed_at
    AccountFactory(opened_at=at(date(2025, 3, 12)))
    assert compute_month(MARCH_2025).accounts_open == 4


def test_a_month_that_has_not_ended_is_refused():
    this_month = timezone.localdate().replace(day=1)
    with pytest.raises(StatisticsError) as exc:
        compute_month(this_month)
    assert exc.value.code == "month_not_ended"
    assert not MonthlyStatistics.objects.exists()


def test_percentages_round_as_printed():
    assert percent_change(53_180_332, 32_987_035) == 61
    assert percent_change(222_978_547, 39_072_872) == 471
    assert percent_change(2_273, 1_114) == 104
    assert percent_change(1_005, 1_000) == 1  # 0.5% rounds half up
    assert percent_change(995, 1_000) == -1
    assert percent_change(5, 0) is None


def test_parse_month_refuses_bad_input():
    assert parse_month("2004-10") == date(2004, 10, 1)
    for bad in ("2004-13", "2004-1", "October", "", "2004-10-01"):
        with pytest.raises(StatisticsError):
            parse_month(bad)


def test_the_task_is_idempotent(firm):
    assert compute_monthly_statistics.delay("2025-03").get() == ["2025-03"]
    assert compute_monthly_statistics.delay("2025-03").get() == ["2025-03"]
    assert MonthlyStatistics.objects.get().accounts_open == 3


def test_the_schedule_computes_the_closed_month_and_fills_gaps(firm):
    done = statistics.compute_closed_month(at=at(date(2025, 4, 1), 1, 15))
    months = [row.month for row in done]
    # From the firm's first month (March 2024) on, the 13 months before March 2025.
    assert months[-1] == MARCH_2025
    assert months[0] == MARCH_2024
    assert len(months) == 13
    assert statistics.compute_closed_month(at=at(date(2025, 4, 1), 1, 15))[-1].month == MARCH_2025
    assert MonthlyStatistics.objects.count() == 13


def test_the_monthly_schedule_exists_after_migrate():
    task = PeriodicTask.objects.get(task="trading.tasks.compute_monthly_statistics")
    assert task.enabled
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month) == ("15", "1", "1")
    assert str(crontab.timezone) == "America/Chicago"


def test_command_computes_a_range_and_one_month(firm):
    out = io.StringIO()
    call_command("compute_monthly_statistics", "--from", "2025-01", "--to", "2025-03", stdout=out)
    assert list(MonthlyStatistics.objects.order_by("month").values_list("month", flat=True)) == [
        date(2025, 1, 1),
        FEB_2025,
        MARCH_2025,
    ]
    assert "2025-03: 3 accounts, assets $3,000.75, 2 trades, 18 shares" in out.getvalue()
    call_command("compute_monthly_statistics", "--month", "2024-03", stdout=io.StringIO())
    assert MonthlyStatistics.objects.get(month=MARCH_2024).source == "command"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--month", "2025-13"], "Not a month"),
        (["--from", "2025-03"], "both --from and --to"),
        (["--month", "2025-03", "--from", "2025-01"], "not both"),
        (["--from", "2025-03", "--to", "2025-01"], "comes after"),
    ],
)
def test_command_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("compute_monthly_statistics", *args)


# --- The monthly report ----------------------------------------------------------------------


def stored(month: date, accounts: int, assets: str, trades: int, shares: int):
    return MonthlyStatistics.objects.create(
        month=month,
        accounts_open=accounts,
        accounts_opened=0,
        accounts_closed=0,
        customer_assets=D(assets),
        trades=trades,
        shares_traded=shares,
        dollar_volume=D("0"),
        computed_at=at(date(2004, 11, 3)),
        source="schedule",
    )


OCTOBER_2004_RELEASE = """\
              RushTrade(R) Group Reports Customer Accounts Up 104%

DALLAS, TEXAS (November 4, 2004) - Rush Financial Technologies, Inc., dba
RushTrade(R) Group, (OTC.BB: "RSHF") announced today its trade volume report for
the month of October 2004. RushTrade Securities, Inc., the Company's
broker/dealer subsidiary, reports continued growth in Customer Accounts, Trade
Volume and Customer Account Assets.

Total customer assets increased 61% from $32,987,035 in October 2003 to
$53,180,332 in October 2004. While the number of trades were comparable for the
two periods, total shares traded increased from 39,072,872 in October 2003 to
222,978,547 in October 2004, an increase of 471%. RushTrade Securities, Inc.
also reported that customer accounts grew to 2,273 as of October 2004, a 104%
increase over the same period last year.

About RushTrade Group
"""


def test_the_report_for_october_2004_reads_like_the_release():
    stored(date(2003, 10, 1), 1_114, "32987035.00", 41_000, 39_072_872)
    stored(date(2004, 10, 1), 2_273, "53180332.40", 41_900, 222_978_547)
    release = press_release(month_report(date(2004, 10, 1)), release_date=date(2004, 11, 4))
    assert release.text.startswith(OCTOBER_2004_RELEASE)
    assert "does not provide advice" in release.text


def test_the_report_says_decreases_are_decreases():
    stored(date(2003, 10, 1), 2_000, "1000000.00", 10_000, 500_000)
    stored(date(2004, 10, 1), 1_900, "880000.00", 8_000, 450_000)
    text = press_release(month_report(date(2004, 10, 1)), date(2004, 11, 4)).text
    flat = " ".join(text.split())
    assert "Reports Customer Accounts Down 5%" in flat
    assert "Total customer assets decreased 12% from $1,000,000 in October 2003 to $880,000" in flat
    assert "The number of trades decreased 20% from 10,000 in October 2003 to 8,000" in flat
    assert "total shares traded decreased from 500,000 in October 2003 to 450,000" in flat
    assert "a decrease of 10%" in flat
    assert "customer accounts decreased to 1,900 as of October 2004, a 5% decrease" in flat
    assert "growth" not in flat and "increase" not in flat


def test_the_report_of_a_first_month_has_no_comparison():
    stored(date(2004, 10, 1), 12, "5000.00", 3, 300)
    flat = " ".join(press_release(month_report(date(2004, 10, 1)), date(2004, 11, 4)).text.split())
    assert "RushTrade(R) Group Reports 12 Customer Accounts" in flat
    assert "Total customer assets were $5,000 in October 2004." in flat
    assert "There were 3 trades in October 2004, and total shares traded were 300" in flat
    assert "customer accounts numbered 12 as of October 2004." in flat


# --- Staff pages -----------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


PAGES = [
    ("staff-statistics", {}),
    ("staff-statistics-csv", {}),
    ("staff-statistics-report", {"month": "2004-10"}),
    ("staff-statistics-report-text", {"month": "2004-10"}),
]


@pytest.mark.parametrize("name, kwargs", PAGES)
def test_customers_cannot_see_the_statistics(client, name, kwargs):
    stored(date(2004, 10, 1), 12, "5000.00", 3, 300)
    url = reverse(name, kwargs=kwargs)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    assert (
        client.post(reverse("staff-statistics-recompute"), {"month": "2004-10"}).status_code == 403
    )


def test_staff_see_the_table_charts_and_reports(staff_client):
    stored(date(2003, 10, 1), 1_114, "32987035.00", 41_000, 39_072_872)
    stored(date(2004, 10, 1), 2_273, "53180332.00", 41_900, 222_978_547)
    page = staff_client.get(reverse("staff-statistics"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Oct 2004" in body and "$53,180,332" in body and "+104%" in body
    assert "vendor/chartjs/chart.umd.min.js" in body and 'id="statistics-data"' in body
    report = staff_client.get(reverse("staff-statistics-report", kwargs={"month": "2004-10"}))
    assert "Customer Accounts Up 104%" in report.content.decode()
    text = staff_client.get(reverse("staff-statistics-report-text", kwargs={"month": "2004-10"}))
    assert text["Content-Type"].startswith("text/plain")
    assert "an increase of 471%" in " ".join(text.content.decode().split())


def test_unknown_or_malformed_months_are_404(staff_client):
    for month in ("2004-10", "2004-13", "nonsense"):
        url = reverse("staff-statistics-report", kwargs={"month": month})
        assert staff_client.get(url).status_code == 404


def test_csv_export(staff_client):
    stored(date(2003, 10, 1), 1_114, "32987035.00", 41_000, 39_072_872)
    stored(date(2004, 9, 1), 2_000, "50000000.00", 40_000, 200_000_000)
    stored(date(2004, 10, 1), 2_273, "53180332.00", 41_900, 222_978_547)
    response = staff_client.get(reverse("staff-statistics-csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["month"] for r in rows] == ["2003-10", "2004-09", "2004-10"]
    october = rows[-1]
    assert october["accounts_open"] == "2273"
    assert (october["accounts_open_change_yoy"], october["accounts_open_change_yoy_pct"]) == (
        "1159",
        "104",
    )
    assert (october["accounts_open_change_mom"], october["accounts_open_change_mom_pct"]) == (
        "273",
        "14",
    )
    assert october["customer_assets"] == "53180332.00"
    assert rows[0]["accounts_open_change_yoy"] == ""  # no earlier month


def test_staff_recompute_a_month_and_see_errors(staff_client, firm):
    response = staff_client.post(
        reverse("staff-statistics-recompute"), {"month": "2025-03"}, follow=True
    )
    assert "March 2025 recomputed" in response.content.decode()
    row = MonthlyStatistics.objects.get(month=MARCH_2025)
    assert row.source == "staff" and row.computed_by.is_staff
    bad = staff_client.post(reverse("staff-statistics-recompute"), {"month": "x"}, follow=True)
    assert bad.status_code == 200 and "Not a month" in bad.content.decode()


def test_demo_history_builds_two_years_once_with_a_sound_ledger():
    from accounts.money.ledger import verify_balances
    from trading.simulation.history import seed_history

    assert seed_history() is True
    months = MonthlyStatistics.objects.order_by("month")
    assert months.count() == 24
    assert all(m.source == "demo" for m in months)
    latest = month_report(months.last().month)
    assert latest.year_ago is not None and latest.change("accounts_open", "year_ago").percent > 0
    assert months.last().customer_assets > 0 and months.last().trades > 0
    assert verify_balances() == []
    assert seed_history() is False
    assert MonthlyStatistics.objects.count() == 24
