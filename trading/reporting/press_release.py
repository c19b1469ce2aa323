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


def press_release(report: MonthReport, release_date: date | None = None) -> PressRelease:
    """The release for `report`'s month (dated `release_date`, default the day the month
    was computed, in the firm's time zone)."""
    stats, year_ago = report.stats, report.year_ago
    now, before = _month(stats.month), _month(year_ago.month) if year_ago else ""
    released = release_date or timezone.localdate(stats.computed_at)
    accounts = report.change("accounts_open", "year_ago")
    assets = report.change("customer_assets", "year_ago")
    trades = report.change("trades", "year_ago")
    shares = report.change("shares_traded", "year_ago")

    def pct(change) -> int | None:
        return change.percent if change else None

    # Headline
    p = pct(accounts)
    if p is None or p == 0:
        headline = f"{FIRM} Reports {_count(stats.accounts_open)} Customer Accounts"
    else:
        headline = f"{FIRM} Reports Customer Accounts {'Up' if p > 0 else 'Down'} {abs(p)}%"

    # Opening paragraph: growth only where there was growth.
    grown = [
        name
        for name, change in (
            ("Customer Accounts", accounts),
            ("Trade Volume", shares),
            ("Customer Account Assets", assets),
        )
        if (pct(change) or 0) > 0
    ]
    if len(grown) == 3:
        reports = f"continued growth in {_listing(grown)}"
    elif grown:
        reports = f"growth in {_listing(grown)}"
    else:
        reports = "its Customer Accounts, Trade Volume and Customer Account Assets"
    opening = (
        f"{DATELINE} ({_day(released)}) - {PARENT} announced today its trade volume report "
        f"for the month of {now}. {BROKER_DEALER}, the Company's broker/dealer subsidiary, "
        f"reports {reports}."
    )

    # Assets
    p = pct(assets)
    if p is None:
        assets_sentence = f"Total customer assets were {_dollars(stats.customer_assets)} in {now}."
    elif p == 0:
        assets_sentence = (
            f"Total customer assets were comparable for the two periods, at "
            f"{_dollars(assets.earlier)} in {before} and {_dollars(stats.customer_assets)} "
            f"in {now}."
        )
    else:
        assets_sentence = (
            f"Total customer assets {'increased' if p > 0 else 'decreased'} {abs(p)}% from "
            f"{_dollars(assets.earlier)} in {before} to {_dollars(stats.customer_assets)} "
            f"in {now}."
        )

    # Shares traded, set against the number of trades
    p = pct(shares)
    if p is None:
        shares_clause = f"were {_count(stats.shares_traded)} in {now}"
    else:
        span = (
            f"from {_count(shares.earlier)} in {before} to {_count(stats.shares_traded)} in {now}"
        )
        if p > 0:
            shares_clause = f"increased {span}, an increase of {p}%"
        elif p < 0:
            shares_clause = f"decreased {span}, a decrease of {abs(p)}%"
        else:
            shares_clause = f"changed little, {span}"
    p = pct(trades)
    if p is None:
        trades_sentence = (
            f"There were {_count(stats.trades)} trades in {now}, and total shares traded "
            f"{shares_clause}."
        )
    elif abs(p) <= TRADES_COMPARABLE_WITHIN:
        trades_sentence = (
            f"While the number of trades were comparable for the two periods, total shares "
            f"traded {shares_clause}."
        )
    else:
        trades_sentence = (
            f"The number of trades {'increased' if p > 0 else 'decreased'} {abs(p)}% from "
            f"{_count(trades.earlier)} in {before} to {_count(stats.trades)} in {now}, and "
            f"total shares traded {shares_clause}."
        )

    # Accounts
    p = pct(accounts)
    n = _count(stats.accounts_open)
    if p is None:
        accounts_clause = f"customer accounts numbered {n} as of {now}"
    elif p > 0:
        accounts_clause = (
            f"customer accounts grew to {n} as of {now}, a {p}% increase over the same "
            f"period last year"
        )
    elif p < 0:
        accounts_clause = (
            f"customer accounts decreased to {n} as of {now}, a {abs(p)}% decrease from the "
            f"same period last year"
        )
    else:
        accounts_clause = (
            f"customer accounts numbered {n} as of {now}, comparable to the same period last year"
        )
    figures = (
        f"{assets_sentence} {trades_sentence} {BROKER_DEALER} also reported that {accounts_clause}."
    )
    return PressRelease(headline, [opening, figures, *ABOUT])
