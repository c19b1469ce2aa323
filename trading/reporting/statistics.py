"""Monthly firm-wide statistics: computed by database aggregates, stored one row a month.

A month is a calendar month in the firm's time zone (America/Chicago, settings.TIME_ZONE).
For month M (start = the 1st at midnight, end = the next month's 1st at midnight):

    accounts_open    accounts opened before `end` and not closed before it
    accounts_opened  accounts whose opened_at is in [start, end)
    accounts_closed  accounts whose closed_at is in [start, end)
    customer_assets  sum of the equity (cash + market value at closing prices) of the
                     account snapshots of the month's last NYSE trading day
    trades           customer orders with at least one execution in [start, end): an order
                     filled in parts counts once; one filled across two months counts in each
    shares_traded    executed quantity in [start, end) (buys and sells)
    dollar_volume    sum of executed quantity x price in [start, end)

Changes against the month before and the same month a year before are read from those
months' stored rows (`MonthReport`); a month with no stored row (before the firm's first
month, or never computed) gives no change. Percentages are whole numbers, rounded half
up, as the monthly report prints them; no percentage against zero.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, F, Q, Sum
from django.utils import timezone

from accounts.opening.models import Account
from accounts.users.models import User
from rushtrade.errors import ServiceError
from trading.orders.models import Execution
from trading.reporting.models import AccountSnapshot, MonthlyStatistics
from trading.reporting.snapshots import last_trading_day_of_month, take_snapshots

CENT = Decimal("0.01")
MONTH_FORMAT = re.compile(r"^(\d{4})-(\d{2})$")
FIGURES = (
    "accounts_open",
    "accounts_opened",
    "accounts_closed",
    "customer_assets",
    "trades",
    "shares_traded",
    "dollar_volume",
)
LABELS = {
    "accounts_open": "Customer accounts",
    "accounts_opened": "Accounts opened",
    "accounts_closed": "Accounts closed",
    "customer_assets": "Customer assets",
    "trades": "Trades",
    "shares_traded": "Shares traded",
    "dollar_volume": "Dollar volume",
}


class StatisticsError(ServiceError):
    pass


# --- Months -------------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """'2004-10' -> date(2004, 10, 1); a clear error for anything else."""
    match = MONTH_FORMAT.match((text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
        raise StatisticsError("invalid_month", f"Not a month: {text!r} (expected YYYY-MM).")
    return date(int(match[1]), int(match[2]), 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """Midnight on the 1st and on the next month's 1st, in the firm's time zone."""
    tz = timezone.get_default_timezone()
    return (
        datetime.combine(month, time.min, tzinfo=tz),
        datetime.combine(add_months(month, 1), time.min, tzinfo=tz),
    )


def months_between(first: date, last: date) -> list[date]:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def last_closed_month(at: datetime | None = None) -> date:
    """The latest month that has ended, in the firm's time zone."""
    today = timezone.localdate(at or timezone.now())
    return add_months(today.replace(day=1), -1)


def first_month() -> date | None:
    """The month the firm's first account opened (None without accounts)."""
    first = Account.objects.order_by("opened_at").values_list("opened_at", flat=True).first()
    return timezone.localdate(first).replace(day=1) if first else None


# --- Computing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    accounts_open: int
    accounts_opened: int
    accounts_closed: int
    customer_assets: Decimal
    assets_as_of: date | None
    trades: int
    shares_traded: int
    dollar_volume: Decimal


def month_figures(month: date) -> Figures:
    """The month's figures, in three aggregate queries (accounts, snapshots, executions)."""
    start, end = month_bounds(month)
    accounts = Account.objects.aggregate(
        open=Count(
            "pk", filter=Q(opened_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end))
        ),
        opened=Count("pk", filter=Q(opened_at__gte=start, opened_at__lt=end)),
        closed=Count("pk", filter=Q(closed_at__gte=start, closed_at__lt=end)),
    )
    as_of = last_trading_day_of_month(month.year, month.month)
    money = DecimalField(max_digits=22, decimal_places=2)
    assets = AccountSnapshot.objects.filter(date=as_of).aggregate(
        total=Sum("equity", output_field=money)
    )["total"]
    # A fill busted within the month was no trade (the engine took it back).
    trading = (
        Execution.objects.filter(executed_at__gte=start, executed_at__lt=end)
        .exclude(busted_at__lt=end)
        .aggregate(
            trades=Count("order_id", distinct=True),
            shares=Sum("qty"),
            dollars=Sum(
                F("qty") * F("price"), output_field=DecimalField(max_digits=24, decimal_places=4)
            ),
        )
    )
    return Figures(
        accounts_open=accounts["open"],
        accounts_opened=accounts["opened"],
        accounts_closed=accounts["closed"],
        # Quantized: SQLite (the embedded run) sums decimals in floating point.
        customer_assets=Decimal(assets or 0).quantize(CENT, ROUND_HALF_UP),
        assets_as_of=as_of,
        trades=trading["trades"],
        shares_traded=int(trading["shares"] or 0),
        dollar_volume=Decimal(trading["dollars"] or 0).quantize(CENT, ROUND_HALF_UP),
    )


def compute_month(
    month: date,
    *,
    by: User | None = None,
    source: str = MonthlyStatistics.Source.SCHEDULE,
    now: datetime | None = None,
) -> MonthlyStatistics:
    """Compute a month that has ended and store it, replacing any earlier computation in
    one statement (an upsert), with when and by whom. Safe to repeat or retry."""
    month = month.replace(day=1)
    now = now or timezone.now()
    _start, end = month_bounds(month)
    if end > now:
        raise StatisticsError(
            "month_not_ended",
            f"{month:%B %Y} has not ended yet: its statistics are computed after it closes.",
        )
    as_of = last_trading_day_of_month(month.year, month.month)
    if as_of and not AccountSnapshot.objects.filter(date=as_of).exists():
        take_snapshots(as_of)  # the daily task missed the month's last close
    figures = month_figures(month)
    row = MonthlyStatistics(
        month=month,
        accounts_open=figures.accounts_open,
        accounts_opened=figures.accounts_opened,
        accounts_closed=figures.accounts_closed,
        customer_assets=figures.customer_assets,
        assets_as_of=figures.assets_as_of,
        trades=figures.trades,
        shares_traded=figures.shares_traded,
        dollar_volume=figures.dollar_volume,
        computed_at=now,
        computed_by=by,
        source=source,
    )
    with transaction.atomic():
        MonthlyStatistics.objects.bulk_create(
            [row],
            update_conflicts=True,
            unique_fields=["month"],
            update_fields=[*FIGURES, "assets_as_of", "computed_at", "computed_by", "source"],
        )
    return MonthlyStatistics.objects.get(month=month)


def compute_months(
    first: date,
    last: date,
    *,
    by: User | None = None,
    source: str = MonthlyStatistics.Source.COMMAND,
    progress: Callable[[Iterable[date]], Iterable[date]] | None = None,
) -> list[MonthlyStatistics]:
    """Compute every month from `first` to `last`, oldest first."""
    if last < first:
        raise StatisticsError("invalid_range", "The first month comes after the last.")
    months = months_between(first.replace(day=1), last.replace(day=1))
    return [compute_month(m, by=by, source=source) for m in (progress or iter)(months)]


def compute_closed_month(at: datetime | None = None) -> list[MonthlyStatistics]:
    """What the schedule runs after a month closes: that month, plus any of the 13 months
    before it (from the firm's first month on) that has no row, so its comparisons exist."""
    last = last_closed_month(at)
    first = first_month()
    done = []
    if first is not None:
        earliest = max(first, add_months(last, -13))
        stored = set(
            MonthlyStatistics.objects.filter(month__gte=earliest, month__lt=last).values_list(
                "month", flat=True
            )
        )
        for month in months_between(earliest, add_months(last, -1)):
            if month not in stored:
                done.append(compute_month(month, source=MonthlyStatistics.Source.SCHEDULE))
    done.append(compute_month(last, source=MonthlyStatistics.Source.SCHEDULE, now=at))
    return done


# --- Reading: the months with their changes ------------------------------------------------


def percent_change(current: Decimal | int, earlier: Decimal | int) -> int | None:
    """Whole-percent change, rounded half up as printed; None against zero."""
    if not earlier:
        return None
    ratio = (Decimal(current) - Decimal(earlier)) * 100 / Decimal(earlier)
    return int(ratio.quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class Change:
    earlier: Decimal | int
    amount: Decimal | int
    percent: int | None


@dataclass(frozen=True)
class MonthReport:
    """A stored month with the stored months it is compared with (None when missing)."""

    stats: MonthlyStatistics
    previous: MonthlyStatistics | None
    year_ago: MonthlyStatistics | None

    @property
    def month(self) -> date:
        return self.stats.month

    def change(self, figure: str, against: str) -> Change | None:
        """`against` is "previous" or "year_ago"."""
        other = getattr(self, against)
        if other is None:
            return None
        current, earlier = getattr(self.stats, figure), getattr(other, figure)
        return Change(earlier, current - earlier, percent_change(current, earlier))

    def rows(self) -> list[tuple[str, str, object, Change | None, Change | None]]:
        return [
            (
                f,
                LABELS[f],
                getattr(self.stats, f),
                self.change(f, "previous"),
                self.change(f, "year_ago"),
            )
            for f in FIGURES
        ]


def monthly_reports(first: date | None = None, last: date | None = None) -> list[MonthReport]:
    """Stored months from `first` to `last` (all by default), newest first, each with the
    month before and the same month a year before (one query)."""
    wanted = MonthlyStatistics.objects.select_related("computed_by")
    if last:
        wanted = wanted.filter(month__lte=last)
    if first:
        wanted = wanted.filter(month__gte=add_months(first, -12))
    by_month = {row.month: row for row in wanted}
    return [
        MonthReport(row, by_month.get(add_months(m, -1)), by_month.get(add_months(m, -12)))
        for m, row in sorted(by_month.items(), reverse=True)
        if first is None or m >= first
    ]


def month_report(month: date) -> MonthReport | None:
    reports = monthly_reports(month, month)
    return reports[0] if reports else None


CSV_HEADER = [
    "month",
    *[
        column
        for figure in FIGURES
        for column in (
            figure,
            f"{figure}_change_mom",
            f"{figure}_change_mom_pct",
            f"{figure}_change_yoy",
            f"{figure}_change_yoy_pct",
        )
    ],
    "assets_as_of",
    "computed_at",
    "computed_by",
]


def csv_rows(reports: Iterable[MonthReport]) -> Iterable[list[object]]:
    """The table as CSV rows (header first), oldest month first; blank where no change."""
    yield CSV_HEADER
    for report in sorted(reports, key=lambda r: r.month):
        row: list[object] = [report.month.strftime("%Y-%m")]
        for figure in FIGURES:
            row.append(getattr(report.stats, figure))
            for against in ("previous", "year_ago"):
                change = report.change(figure, against)
                row.append("" if change is None else change.amount)
                row.append("" if change is None or change.percent is None else change.percent)
        row += [
            report.stats.assets_as_of or "",
            timezone.localtime(report.stats.computed_at).isoformat(timespec="seconds"),
            report.stats.computed_by_name,
        ]
        yield row
