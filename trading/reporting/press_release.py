"""The monthly report: a press release in the words and shape of the firm's October 2004
one (docs/reference/press-release-2004-11-04.txt), generated from a stored month and
the same month a year before. Increases are reported as increases, decreases as
decreases; percentages are whole numbers rounded half up (statistics.percent_change)."""

import textwrap
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from trading.reporting.statistics import MonthReport

WIDTH = 80
# Trades within this many percent of the year before are "comparable", as in 2004.
TRADES_COMPARABLE_WITHIN = 5

FIRM = "RushTrade(R) Group"
PARENT = 'Rush Financial Technologies, Inc., dba RushTrade(R) Group, (OTC.BB: "RSHF")'
BROKER_DEALER = "RushTrade Securities, Inc."
DATELINE = "DALLAS, TEXAS"
ABOUT = [
    "About RushTrade Group",
    "RushTrade Securities, Inc., a wholly-owned subsidiary of the Company and a fully "
    "disclosed introducing broker/dealer, offers securities and online brokerage services "
    "to its retail customers through the RushTrade web portal. RushTrade customer trades "
    "are cleared through and customer accounts are held at a third party clearing firm. "
    "RushTrade is registered in all 50 U.S. states and accepts customers from most foreign "
    "countries. RushTrade customer accounts are self-directed, and RushTrade does not "
    "provide advice or make trade recommendations.",
]


@dataclass(frozen=True)
class PressRelease:
    headline: str
    paragraphs: list[str]

    @property
    def text(self) -> str:
        body = [textwrap.fill(p, WIDTH, break_on_hyphens=False) for p in self.paragraphs]
        return "\n\n".join([self.headline.center(WIDTH).rstrip(), *body]) + "\n"


def _month(day: date) -> str:
    return f"{day:%B} {day.year}"


def _day(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _count(value: int) -> str:
    return f"{value:,}"


def _dollars(value: Decimal) -> str:
    return f"${int(Decimal(value).quantize(Decimal(1), ROUND_HALF_UP)):,}"


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _pct(change) -> int | None:
    return change.percent if change else None


def press_release(report: MonthReport, release_date: date | None = None) -> PressRelease:
    """The release for `report`'s month (dated `release_date`, default the day the month
    was computed, in the firm's time zone)."""
    stats = report.stats
    released = release_date or timezone.localdate(stats.computed_at)
    figures = " ".join(
        [
            _assets_sentence(report),
            _trades_sentence(report),
            f"{BROKER_DEALER} also reported that {_accounts_clause(report)}.",
        ]
    )
    return PressRelease(_headline(report), [_opening(report, released), figures, *ABOUT])


def _months(report: MonthReport) -> tuple[str, str]:
    """The month reported on and the same month a year before ("" if not stored)."""
    year_ago = report.year_ago
    return _month(report.stats.month), _month(year_ago.month) if year_ago else ""


def _headline(report: MonthReport) -> str:
    p = _pct(report.change("accounts_open", "year_ago"))
    if p is None or p == 0:
        return f"{FIRM} Reports {_count(report.stats.accounts_open)} Customer Accounts"
    return f"{FIRM} Reports Customer Accounts {'Up' if p > 0 else 'Down'} {abs(p)}%"


def _opening(report: MonthReport, released: date) -> str:
    """The opening paragraph: growth only where there was growth."""
    grown = [
        name
        for name, field in (
            ("Customer Accounts", "accounts_open"),
            ("Trade Volume", "shares_traded"),
            ("Customer Account Assets", "customer_assets"),
        )
        if (_pct(report.change(field, "year_ago")) or 0) > 0
    ]
    if len(grown) == 3:
        reports = f"continued growth in {_listing(grown)}"
    elif grown:
        reports = f"growth in {_listing(grown)}"
    else:
        reports = "its Customer Accounts, Trade Volume and Customer Account Assets"
    return (
        f"{DATELINE} ({_day(released)}) - {PARENT} announced today its trade volume report "
        f"for the month of {_months(report)[0]}. {BROKER_DEALER}, the Company's broker/dealer "
        f"subsidiary, reports {reports}."
    )


def _assets_sentence(report: MonthReport) -> str:
    stats, assets = report.stats, report.change("customer_assets", "year_ago")
    now, before = _months(report)
    p = _pct(assets)
    if p is None:
        return f"Total customer assets were {_dollars(stats.customer_assets)} in {now}."
    if p == 0:
        return (
            f"Total customer assets were comparable for the two periods, at "
            f"{_dollars(assets.earlier)} in {before} and {_dollars(stats.customer_assets)} "
            f"in {now}."
        )
    return (
        f"Total customer assets {'increased' if p > 0 else 'decreased'} {abs(p)}% from "
        f"{_dollars(assets.earlier)} in {before} to {_dollars(stats.customer_assets)} "
        f"in {now}."
    )


def _shares_clause(report: MonthReport) -> str:
    stats, shares = report.stats, report.change("shares_traded", "year_ago")
    now, before = _months(report)
    p = _pct(shares)
    if p is None:
        return f"were {_count(stats.shares_traded)} in {now}"
    span = f"from {_count(shares.earlier)} in {before} to {_count(stats.shares_traded)} in {now}"
    if p > 0:
        return f"increased {span}, an increase of {p}%"
    if p < 0:
        return f"decreased {span}, a decrease of {abs(p)}%"
    return f"changed little, {span}"


def _trades_sentence(report: MonthReport) -> str:
    """Trades, set against the shares traded."""
    stats, trades = report.stats, report.change("trades", "year_ago")
    now, before = _months(report)
    shares_clause = _shares_clause(report)
    p = _pct(trades)
    if p is None:
        return (
            f"There were {_count(stats.trades)} trades in {now}, and total shares traded "
            f"{shares_clause}."
        )
    if abs(p) <= TRADES_COMPARABLE_WITHIN:
        return (
            f"While the number of trades were comparable for the two periods, total shares "
            f"traded {shares_clause}."
        )
    return (
        f"The number of trades {'increased' if p > 0 else 'decreased'} {abs(p)}% from "
        f"{_count(trades.earlier)} in {before} to {_count(stats.trades)} in {now}, and "
        f"total shares traded {shares_clause}."
    )


def _accounts_clause(report: MonthReport) -> str:
    p = _pct(report.change("accounts_open", "year_ago"))
    now = _months(report)[0]
    n = _count(report.stats.accounts_open)
    if p is None:
        return f"customer accounts numbered {n} as of {now}"
    if p > 0:
        return (
            f"customer accounts grew to {n} as of {now}, a {p}% increase over the same "
            f"period last year"
        )
    if p < 0:
        return (
            f"customer accounts decreased to {n} as of {now}, a {abs(p)}% decrease from the "
            f"same period last year"
        )
    return f"customer accounts numbered {n} as of {now}, comparable to the same period last year"
