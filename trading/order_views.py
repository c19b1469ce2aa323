"""Customer pages for trading: the order ticket (preview, place) and the orders page
(open orders with cancel and replace, history with executions; refreshes itself)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Account
from rushtrade.errors import ServiceError

from . import orders
from .forms import OrderTicketForm, ReplaceForm
from .models import OPEN_STATUSES, Order


def _own_account(request, number) -> Account:
    return get_object_or_404(Account, account_number=number, holders=request.user)


def _errors_to_form(form, error: ServiceError) -> None:
    names = {"type": "order_type"}
    for name, field_error in error.fields.items():
        target = names.get(name, name)
        form.add_error(target if target in form.fields else None, field_error.message)
    if not error.fields:
        form.add_error(None, error.message)


@login_required
def order_ticket(request, number):
    account = _own_account(request, number)
    preview = None
    if request.method == "POST":
        form = OrderTicketForm(request.POST)
        if form.is_valid():
            values = form.order_values()
            try:
                if "preview" in request.POST:
                    preview = orders.preview_order(account, **values)
                else:
                    order, created = orders.place_order(
                        account,
                        request.user,
                        client_order_id=form.cleaned_data["client_order_id"],
                        **values,
                    )
                    if created:
                        messages.success(request, f"Order placed: {order}.")
                    return redirect("account-orders", number=number)
            except ServiceError as error:
                _errors_to_form(form, error)
    else:
        form = OrderTicketForm(
            initial={
                "symbol": request.GET.get("symbol", ""),
                "side": request.GET.get("side", "buy"),
                "order_type": "limit",
                "time_in_force": "day",
                "client_order_id": uuid.uuid4().hex,
            }
        )
    return render(
        request,
        "trading/order_ticket.html",
        {
            "account": account,
            "form": form,
            "preview": preview,
            "status": 200 if not form.errors else 400,
        },
        status=400 if form.errors else 200,
    )


def _orders_context(account):
    base = account.orders.select_related("security", "replaced_by")
    return {
        "account": account,
        "open_orders": base.filter(status__in=OPEN_STATUSES),
        "history": base.exclude(status__in=OPEN_STATUSES).prefetch_related("executions")[:100],
    }


@login_required
def order_list(request, number):
    account = _own_account(request, number)
    template = (
        "trading/_order_tables.html" if request.headers.get("HX-Request") else "trading/orders.html"
    )
    return render(request, template, _orders_context(account))


@login_required
def order_detail(request, number, order_id):
    account = _own_account(request, number)
    order = get_object_or_404(account.orders.select_related("security"), pk=order_id)
    form = ReplaceForm(
        initial={"qty": order.qty, "limit_price": order.limit_price, "stop_price": order.stop_price}
    )
    return render(
        request,
        "trading/order_detail.html",
        {"account": account, "order": order, "executions": order.executions.all(), "form": form},
    )


@login_required
@require_POST
def cancel(request, number, order_id):
    account = _own_account(request, number)
    order = get_object_or_404(Order, pk=order_id, account=account)
    try:
        orders.cancel_order(order, request.user)
        messages.success(request, "Cancel requested.")
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("account-orders", number=number)


@login_required
@require_POST
def replace(request, number, order_id):
    account = _own_account(request, number)
    order = get_object_or_404(Order, pk=order_id, account=account)
    form = ReplaceForm(request.POST)
    if form.is_valid():
        try:
            new = orders.replace_order(
                order,
                request.user,
                **{k: v for k, v in form.cleaned_data.items() if v not in (None, "")},
            )
            messages.success(request, f"Replace requested: {new}.")
            return redirect("account-orders", number=number)
        except ServiceError as error:
            _errors_to_form(form, error)
    return render(
        request,
        "trading/order_detail.html",
        {"account": account, "order": order, "executions": order.executions.all(), "form": form},
        status=400,
    )
