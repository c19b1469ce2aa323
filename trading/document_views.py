"""The customer's documents: the list, trade confirmations and monthly statements as
PDF downloads (only their own accounts')."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.models import Account

from . import documents
from .models import Execution


def _own_account(request, number) -> Account:
    return get_object_or_404(Account, account_number=number, holders=request.user)


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def document_list(request, number):
    account = _own_account(request, number)
    executions = (
        Execution.objects.filter(order__account=account)
        .select_related("order__security")
        .order_by("-executed_at")[:200]
    )
    return render(
        request,
        "trading/documents.html",
        {
            "account": account,
            "months": documents.statement_months(account),
            "executions": executions,
            "this_month": timezone.localdate().replace(day=1),
        },
    )


@login_required
def confirmation(request, number, execution_id):
    account = _own_account(request, number)
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
    account = _own_account(request, number)
    if (year, month) not in documents.statement_months(account):
        raise Http404("No statement for that month.")
    return _pdf(
        documents.statement_pdf(account, year, month),
        f"{account.account_number}-statement-{year:04d}-{month:02d}.pdf",
    )
