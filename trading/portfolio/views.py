"""The customer's asset pages: an account's overview (balances, positions at live
prices, value history, allocation, open orders, recent activity) and the combined view
of all their accounts."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from accounts.money import ledger
from accounts.opening.models import Account, AccountApplication, ApplicationStatus
from accounts.opening.ownership import owned_account
from trading.orders import lots
from trading.orders.models import OPEN_STATUSES
from trading.portfolio import valuation
from trading.portfolio.first_run import first_run


def _history_chart(account, period, equity):
    series = [(day, value) for day, value, _ in valuation.history(account, period)]
    today = timezone.localdate()
    if not series or series[-1][0] < today:
        series.append((today, equity))  # today, live
    return valuation.chart(series)


@login_required
def account_overview(request, number):
    account = owned_account(request.user, number)
    held = valuation.portfolio(account)
    book = lots.replay(account, reconcile=False)
    year = timezone.localdate().year
    period = request.GET.get("period", "1M")
    if period not in valuation.PERIODS:
        period = "1M"
    return render(
        request,
        "portfolio/account_overview.html",
        {
            "account": account,
            "portfolio": held,
            "period": period,
            "periods": list(valuation.PERIODS),
            "chart": _history_chart(account, period, held.equity),
            "open_orders": account.orders.filter(status__in=OPEN_STATUSES)
            .select_related("security")
            .order_by("-created_at")[:20],
            "activity": ledger.cash_postings(account)[:10],
            "first_run": first_run(account, held.balances.buying_power, held.balances.cash),
            "realized_year": year,
            "realized_ytd": book.realized(year),
            "realized_all": book.realized(),
        },
    )


@login_required
def portfolio_partial(request, number):
    """Summary and positions at the latest prices (htmx polls it every few seconds)."""
    account = owned_account(request.user, number)
    return render(
        request,
        "portfolio/_portfolio.html",
        {"account": account, "portfolio": valuation.portfolio(account)},
    )


@login_required
def combined(request):
    """All the customer's accounts together: totals and one line per account."""
    accounts = list(Account.objects.filter(holders=request.user).order_by("opened_at"))
    portfolios = [valuation.portfolio(account) for account in accounts]
    return render(
        request,
        "portfolio/combined.html",
        {"portfolios": portfolios, "totals": valuation.combine(portfolios)},
    )


def home(request):
    context = {}
    if request.user.is_authenticated:
        accounts = list(Account.objects.filter(holders=request.user).order_by("opened_at"))
        context["accounts"] = accounts
        context["portfolios"] = [valuation.portfolio(account) for account in accounts]
        context["totals"] = valuation.combine(context["portfolios"])
        context["applications"] = (
            AccountApplication.objects.filter(applicant=request.user)
            .exclude(status=ApplicationStatus.WITHDRAWN)
            .select_related("account")
        )
        context["draft"] = next(
            (a for a in context["applications"] if a.status == ApplicationStatus.DRAFT), None
        )
    return render(request, "portfolio/home.html", context)
