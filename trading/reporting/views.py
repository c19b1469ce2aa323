"""Staff statistics pages and the monthly report; customers' confirmations and statements."""

import csv
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.opening.ownership import owned_account
from trading.orders.models import Execution
from trading.reporting import documents
from trading.reporting.models import MonthlyStatistics
from trading.reporting.press_release import press_release
from trading.reporting.statistics import (
    FIGURES,
    LABELS,
    StatisticsError,
    compute_month,
    month_report,
    monthly_reports,
    parse_month,
)
from trading.reporting.statistics import csv_rows as statistics_csv_rows


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def document_list(request, number):
    account = owned_account(request.user, number)
    executions = (
        Execution.objects.filter(order__account=account)
        .select_related("order__security")
        .order_by("-executed_at")[:200]
    )
    return render(
        request,
        "reporting/documents.html",
        {
            "account": account,
            "months": documents.statement_months(account),
            "executions": executions,
            "this_month": timezone.localdate().replace(day=1),
        },
    )


@login_required
def confirmation(request, number, execution_id):
    account = owned_account(request.user, number)
    execution = get_object_or_404(
        Execution.objects.select_related("order__security", "order__account"),
        pk=execution_id,
        order__account=account,
    )
    return _pdf(
        documents.confirmation_pdf(execution),
        f"{account.account_number}-confirmation-{execution.pk:08d}.pdf",
    )


@login_required
def statement(request, number, year, month):
    account = owned_account(request.user, number)
    if (year, month) not in documents.statement_months(account):
        raise Http404("No statement for that month.")
    return _pdf(
        documents.statement_pdf(account, year, month),
        f"{account.account_number}-statement-{year:04d}-{month:02d}.pdf",
    )


def staff_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapper


def _report_or_404(month_text: str):
    try:
        month = parse_month(month_text)
    except StatisticsError as exc:
        raise Http404(exc.message) from exc
    report = month_report(month)
    if report is None:
        raise Http404(f"{month:%B %Y} has not been computed.")
    return report


@staff_required
def statistics_table(request):
    reports = monthly_reports()
    chart = [
        {
            "month": r.month.strftime("%Y-%m"),
            "customer_assets": str(r.stats.customer_assets),
            "accounts_open": r.stats.accounts_open,
            "trades": r.stats.trades,
            "shares_traded": r.stats.shares_traded,
        }
        for r in reversed(reports)
    ]
    return render(
        request,
        "reporting/statistics.html",
        {
            "reports": reports,
            "chart": chart,
            "labels": [LABELS[f] for f in FIGURES],
            "default_month": reports[0].month.strftime("%Y-%m") if reports else "",
        },
    )


@staff_required
@require_POST
def recompute(request):
    try:
        month = parse_month(request.POST.get("month", ""))
        row = compute_month(month, by=request.user, source=MonthlyStatistics.Source.STAFF)
    except StatisticsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{row} recomputed.")
    return redirect("staff-statistics")


@staff_required
def statistics_csv(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="rushtrade-statistics-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerows(statistics_csv_rows(monthly_reports()))
    return response


@staff_required
def report_page(request, month):
    report = _report_or_404(month)
    return render(
        request,
        "reporting/statistics_report.html",
        {"report": report, "release": press_release(report)},
    )


@staff_required
def report_text(request, month):
    report = _report_or_404(month)
    return HttpResponse(press_release(report).text, content_type="text/plain; charset=utf-8")
