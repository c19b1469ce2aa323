"""Customer pages for an account's money: overview with balances, transfers, activity."""

import csv
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.money import funding, ledger, position_changes
from accounts.money.forms import ActivityFilterForm, BankLinkForm, TransferForm
from accounts.opening.ownership import owned_account
from accounts.users.sign_in import step_up_required
from rushtrade.errors import ServiceError
from rushtrade.forms import add_service_errors


@login_required
def activity(request, number):
    """Cash activity, filtered by type and date, as a page or (`?format=csv`) a CSV file
    of every matching row."""
    account = owned_account(request.user, number)
    form = ActivityFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        postings = ledger.cash_postings(account, **form.filters())
    elif form.is_bound:
        postings = ledger.cash_postings(account).none()
    else:
        postings = ledger.cash_postings(account)
    if request.GET.get("format") == "csv":
        if form.is_bound and not form.is_valid():
            return HttpResponseBadRequest(
                "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()),
                content_type="text/plain",
            )
        return _activity_csv(account, postings)
    page = Paginator(postings, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "money/activity.html",
        {
            "account": account,
            "page": page,
            "form": form,
            "query": query.urlencode(),
            "position_changes": position_changes.recent(account),
        },
    )


def _activity_csv(account, postings) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    today = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="{account.account_number}-activity-{today}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["date", "type", "description", "amount", "settles_on", "entry_id"])
    for posting in postings.iterator(chunk_size=2000):
        writer.writerow(
            [
                timezone.localtime(posting.entry.created_at).isoformat(timespec="seconds"),
                posting.entry.kind,
                posting.entry.description,
                f"{posting.amount:.2f}",
                posting.settles_on.isoformat(),
                posting.entry_id,
            ]
        )
    return response


def _transfers_context(account, transfer_form=None, bank_form=None):
    links = list(account.bank_links.filter(active=True))
    return {
        "account": account,
        "bank_links": links,
        "transfers": account.transfers.select_related("bank_link")[:50],
        "transfer_form": transfer_form
        or TransferForm(bank_links=links, initial={"client_transfer_id": uuid.uuid4().hex}),
        "bank_form": bank_form or BankLinkForm(),
        "balances": ledger.account_balances(account),
    }


@login_required
def transfers(request, number):
    account = owned_account(request.user, number)
    template = (
        "money/_transfer_list.html" if request.headers.get("HX-Request") else "money/transfers.html"
    )
    return render(request, template, _transfers_context(account))


@sensitive_post_parameters("bank_account_number")
@login_required
@require_POST
def link_bank(request, number):
    account = owned_account(request.user, number)
    form = BankLinkForm(request.POST)
    if form.is_valid():
        try:
            link = funding.link_bank(account, request.user, **form.cleaned_data)
        except ServiceError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Linked {link}.")
            return redirect("account-transfers", number=number)
    return render(
        request, "money/transfers.html", _transfers_context(account, bank_form=form), status=400
    )


def _withdrawal_to_new_bank(request, number) -> bool:
    account = owned_account(request.user, number)
    return funding.withdrawal_needs_step_up(
        account, request.POST.get("direction", ""), request.POST.get("bank_link")
    )


@login_required
@require_POST
@step_up_required(when=_withdrawal_to_new_bank)
def request_transfer(request, number):
    account = owned_account(request.user, number)
    links = list(account.bank_links.filter(active=True))
    form = TransferForm(request.POST, bank_links=links)
    if form.is_valid():
        data = form.cleaned_data
        try:
            transfer, created = funding.request_transfer(
                account,
                request.user,
                direction=data["direction"],
                amount=data["amount"],
                bank_link_id=data["bank_link"],
                client_transfer_id=data["client_transfer_id"],
            )
        except ServiceError as error:
            add_service_errors(form, error)
        else:
            if created:
                messages.success(
                    request,
                    f"{transfer.get_direction_display()} of ${transfer.amount:,.2f} requested.",
                )
            return redirect("account-transfers", number=number)
    return render(
        request,
        "money/transfers.html",
        _transfers_context(account, transfer_form=form),
        status=400,
    )


@login_required
@require_POST
def cancel_transfer(request, number, transfer_id):
    account = owned_account(request.user, number)
    transfer = get_object_or_404(account.transfers, pk=transfer_id)
    try:
        funding.cancel_transfer(transfer, request.user)
        messages.success(request, "Transfer canceled.")
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("account-transfers", number=number)
