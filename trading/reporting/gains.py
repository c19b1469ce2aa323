"""The annual realized-gains report of an account (page and CSV), and its open tax lots,
from the FIFO replay of its executions (`trading.orders.lots`)."""

import csv
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.opening.ownership import owned_account
from trading.market import market_data
from trading.orders.lots import ZERO, Disposal, Lot, LotBook, is_long_term, replay

CSV_COLUMNS = [
    "description",
    "symbol",
    "quantity",
    "date_acquired",
    "date_sold",
    "proceeds",
    "cost_basis",
    "gain",
    "term",
    "sell_execution_id",
]


@dataclass(frozen=True)
class Totals:
    proceeds: Decimal
    cost_basis: Decimal
    gain: Decimal
    count: int


def totals(disposals: list[Disposal]) -> Totals:
    known = [d for d in disposals if d.cost_basis is not None]
    return Totals(
        proceeds=sum((d.proceeds for d in disposals), ZERO),
        cost_basis=sum((d.cost_basis for d in known), ZERO),
        gain=sum((d.gain for d in known), ZERO),
        count=len(disposals),
    )


@dataclass(frozen=True)
class Report:
    year: int
    disposals: list[Disposal]
    short_term: Totals
    long_term: Totals
    unknown: Totals  # shares whose cost is not known here
    total: Totals
    years: list[int]


def annual_report(book: LotBook, year: int) -> Report:
    disposals = sorted(
        (d for d in book.disposals if d.sold_on.year == year),
        key=lambda d: (d.sold_on, d.symbol, d.sell_execution_id),
    )
    current = timezone.localdate().year
    return Report(
        year=year,
        disposals=disposals,
        short_term=totals([d for d in disposals if d.long_term is False]),
        long_term=totals([d for d in disposals if d.long_term is True]),
        unknown=totals([d for d in disposals if d.long_term is None]),
        total=totals(disposals),
        years=sorted({current, *book.years()}, reverse=True),
    )


@dataclass(frozen=True)
class OpenLot:
    lot: Lot
    last: Decimal | None
    market_value: Decimal | None
    unrealized: Decimal | None
    long_term: bool | None


def open_lots(book: LotBook) -> list[OpenLot]:
    lots = [lot for security_lots in book.lots.values() for lot in security_lots if lot.remaining]
    quotes = market_data.get_quotes(sorted({lot.symbol for lot in lots}))
    today = timezone.localdate()
    found = []
    for lot in sorted(lots, key=lambda x: (x.symbol, x.acquired_on or today)):
        quote = quotes.get(lot.symbol)
        value = (quote.last * lot.remaining).quantize(Decimal("0.01")) if quote else None
        found.append(
            OpenLot(
                lot,
                quote.last if quote else None,
                value,
                None if value is None else value - lot.cost,
                is_long_term(lot.acquired_on, today),
            )
        )
    return found


def _year(request) -> int:
    text = request.GET.get("year", "")
    current = timezone.localdate().year
    return int(text) if text.isdigit() and 1990 <= int(text) <= current else current


@login_required
def gains_page(request, number):
    account = owned_account(request.user, number)
    book = replay(account)
    report = annual_report(book, _year(request))
    return render(
        request,
        "reporting/gains.html",
        {
            "account": account,
            "report": report,
            "summary": [
                ("Short-term", report.short_term),
                ("Long-term", report.long_term),
                ("Total realized", report.total),
            ],
            "open_lots": open_lots(book),
        },
    )


@login_required
def gains_csv(request, number, year: int):
    account = owned_account(request.user, number)
    report = annual_report(replay(account, reconcile=False), year)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="realized-gains-{account.account_number}-{year}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for d in report.disposals:
        writer.writerow(
            [
                f"{d.qty} sh. {d.symbol} ({d.name})"
                + (", cash in lieu" if d.adjustment_id else ""),
                d.symbol,
                d.qty,
                d.acquired_on.isoformat() if d.acquired_on else "unknown",
                d.sold_on.isoformat(),
                f"{d.proceeds:.2f}",
                "" if d.cost_basis is None else f"{d.cost_basis:.2f}",
                "" if d.gain is None else f"{d.gain:.2f}",
                d.term,
                d.sell_execution_id,
            ]
        )
    return response
