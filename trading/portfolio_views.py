"""The customer's asset pages: an account's overview (balances, positions at live
prices, value history, allocation, open orders, recent activity) and the combined view
of all their accounts."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts import ledger
from accounts.models import Account

from . import portfolio
from .models import OPEN_STATUSES


def _own_account(request, number) -> Account:
    return get_object_or_404(Account, account_number=number, holders=request.user)


def _history_chart(account, period, equity):
    series = [(day, value) for day, value, _ in portfolio.history(account, period)]
    today = timezone.localdate()
    if not series or series[-1][0] < today:
        series.append((today, equity))  # today, live
    return portfolio.chart(series)


@login_required
def account_overview(request, number):
    account = _own_account(request, number)
    held = portfolio.portfolio(account)
    period = request.GET.get("period", "1M")
    if period not in portfolio.PERIODS:
        period = "1M"
    return render(
        request,
        "trading/account_overview.html",
        {
            "account": account,
            "portfolio": held,
            "period": period,
            "periods": list(portfolio.PERIODS),
            "chart": _history_chart(account, period, held.equity),
            "open_orders": account.orders.filter(status__in=OPEN_STATUSES)
            .select_related("security")
            .order_by("-created_at")[:20],
            "activity": ledger.cash_postings(account)[:10],
        },
    )


@login_required
def portfolio_partial(request, number):
    """Summary and positions at the latest prices (htmx polls it every few seconds)."""
    account = _own_account(request, number)
    return render(
        request,
        "trading/_portfolio.html",
        {"account": account, "portfolio": portfolio.portfolio(account)},
    )


@login_required
def combined(request):
    """All the customer's accounts together: totals and one line per account."""
    accounts = list(Account.objects.filter(holders=request.user).order_by("opened_at"))
    portfolios = [portfolio.portfolio(account) for account in accounts]
    return render(
        request,
        "trading/combined.html",
        {"portfolios": portfolios, "totals": portfolio.combine(portfolios)},
    )
