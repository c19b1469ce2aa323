"""A page per symbol: its price chart (intraday and daily), its quote, what the customer
holds of it and the orders they have in it, with buy and sell buttons to the ticket; and
the header's search box (symbols and company names, typo-tolerant), which works as a
plain form without JavaScript."""

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.opening.models import Account, AccountStatus
from accounts.users.models import User
from trading.market import market_data
from trading.market.models import Security, WatchlistItem
from trading.market.price_history import RANGES, price_series
from trading.market.search import find_securities, resolve_symbol
from trading.orders.lots import Lot, replay
from trading.orders.models import OPEN_STATUSES, Order, Position

NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class HeldPosition:
    account: Account
    qty: int
    avg_cost: Decimal
    market_value: Decimal | None
    unrealized: Decimal | None
    lots: list[Lot]  # FIFO: the first sold first


@dataclass(frozen=True)
class Holdings:
    accounts: list[Account]  # the customer's open accounts (where they could trade it)
    positions: list[HeldPosition]
    open_orders: list[Order]
    recent_orders: list[Order]

    @property
    def qty(self) -> int:
        return sum(p.qty for p in self.positions)


def holdings_in(user: User, security: Security, last: Decimal | None) -> Holdings:
    """What `user` holds of `security` and their orders in it, over the accounts they
    hold (and only those)."""
    accounts = list(
        Account.objects.filter(holders=user.pk)
        .exclude(status=AccountStatus.CLOSED)
        .order_by("opened_at")
    )
    positions = []
    for position in (
        Position.objects.filter(account__in=accounts, security=security, qty__gt=0)
        .select_related("account")
        .order_by("account__opened_at")
    ):
        value = None if last is None else (last * position.qty).quantize(Decimal("0.01"))
        unrealized = (
            None
            if last is None
            else ((last - position.avg_cost) * position.qty).quantize(Decimal("0.01"))
        )
        book = replay(position.account)
        positions.append(
            HeldPosition(
                position.account,
                position.qty,
                position.avg_cost,
                value,
                unrealized,
                book.open_lots(security.pk),
            )
        )
    orders = Order.objects.filter(account__in=accounts, security=security).select_related(
        "account", "security"
    )
    return Holdings(
        accounts=accounts,
        positions=positions,
        open_orders=list(orders.filter(status__in=OPEN_STATUSES).order_by("-created_at")[:20]),
        recent_orders=list(orders.exclude(status__in=OPEN_STATUSES).order_by("-created_at")[:10]),
    )


def chart_data(series) -> dict:
    """What the chart script draws: labels and prices as strings (never floats in Python)."""
    if series.intraday:
        labels = [p.at.astimezone(NEW_YORK).strftime("%H:%M") for p in series.points]
    else:
        long_range = len(series.points) > 100
        labels = [p.at.strftime("%b %Y" if long_range else "%b %-d") for p in series.points]
    return {
        "labels": labels,
        "prices": [str(p.price) for p in series.points],
        "intraday": series.intraday,
        "down": bool(series.change is not None and series.change < 0),
    }


@login_required
def symbol_page(request, symbol):
    security = get_object_or_404(Security, symbol=symbol.strip().upper()[:12])
    range_ = request.GET.get("range", "1D")
    if range_ not in RANGES:
        range_ = "1D"
    quote = market_data.get_quote(security.symbol)
    previous_close = market_data.get_previous_close(security.symbol)
    change = change_pct = None
    if quote is not None and previous_close:
        change = quote.last - previous_close
        change_pct = (change / previous_close * 100).quantize(Decimal("0.01"))
    series = price_series(security, range_)
    places = 2 if security.price_increment >= Decimal("0.01") else 4
    return render(
        request,
        "portfolio/symbol.html",
        {
            "security": security,
            "quote": quote,
            "previous_close": previous_close,
            "change": change,
            "change_pct": change_pct,
            "price_format": f"{places}g",
            "series": series,
            "chart": chart_data(series),
            "range": range_,
            "ranges": list(RANGES),
            "holdings": holdings_in(request.user, security, quote.last if quote else None),
            "watched": WatchlistItem.objects.filter(user=request.user, security=security).exists(),
        },
    )


@login_required
def search(request):
    """The header's search box: straight to the symbol's page when the text means one
    security, else the list of matches (with "did you mean" for typos)."""
    text = " ".join((request.GET.get("q") or "").split())[:40]
    if text and request.GET.get("list") != "1":
        security = resolve_symbol(text)
        if security is not None:
            return redirect(reverse("symbol", args=[security.symbol]))
    matches = find_securities(text, limit=20) if text else []
    return render(
        request,
        "portfolio/search.html",
        {"q": text, "matches": matches},
    )


@login_required
def suggest(request):
    """The header search box's suggestions as you type (an htmx partial: datalist options)."""
    text = (request.GET.get("q") or "")[:40]
    return render(
        request, "portfolio/_search_options.html", {"matches": find_securities(text, limit=8)}
    )
