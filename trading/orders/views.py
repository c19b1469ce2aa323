"""Customer pages for trading: the order ticket (preview, place) and the orders page
(open orders with cancel and replace, history with executions; refreshes itself)."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.opening.ownership import owned_account
from rushtrade.errors import ServiceError
from rushtrade.forms import add_service_errors
from trading.orders import entry
from trading.orders.forms import OrderTicketForm, ReplaceForm
from trading.orders.models import OPEN_STATUSES, Order


def _errors_to_form(form, error: ServiceError) -> None:
    add_service_errors(form, error, field_of=lambda name: {"type": "order_type"}.get(name, name))


@login_required
def order_ticket(request, number):
    account = owned_account(request.user, number)
    preview = None
    if request.method == "POST":
        form = OrderTicketForm(request.POST)
        if form.is_valid():
            values = form.order_values()
            try:
                if "preview" in request.POST:
                    preview = entry.preview_order(account, **values)
                else:
                    order, created = entry.place_order(
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
                "order_type": "market",
                "time_in_force": "day",
                "client_order_id": uuid.uuid4().hex,
            }
        )
    return render(
        request,
        "orders/order_ticket.html",
        {
            "account": account,
            "form": form,
            "preview": preview,
            "market_order_buffer": (settings.MARKET_ORDER_BUFFER * 100).normalize(),
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
    account = owned_account(request.user, number)
    template = (
        "orders/_order_tables.html" if request.headers.get("HX-Request") else "orders/orders.html"
    )
    return render(request, template, _orders_context(account))


@login_required
def order_detail(request, number, order_id):
    account = owned_account(request.user, number)
    order = get_object_or_404(account.orders.select_related("security"), pk=order_id)
    if request.headers.get("HX-Request"):  # the live part, refreshed from the event stream
        return render(
            request,
            "orders/_order_summary.html",
            {
                "account": account,
                "order": order,
                "executions": order.executions.all(),
                "group": _group(order),
            },
        )
    form = ReplaceForm(
        initial={"qty": order.qty, "limit_price": order.limit_price, "stop_price": order.stop_price}
    )
    return render(
        request,
        "orders/order_detail.html",
        {
            "account": account,
            "order": order,
            "executions": order.executions.all(),
            "form": form,
            "group": _group(order),
        },
    )


def _group(order: Order) -> list[Order]:
    """The orders of its bracket, oco or oto (none replaced), the entry first."""
    if order.group is None:
        return []
    return list(Order.objects.filter(group=order.group, replaced_by__isnull=True).order_by("id"))


@login_required
@require_POST
def cancel(request, number, order_id):
    account = owned_account(request.user, number)
    order = get_object_or_404(Order, pk=order_id, account=account)
    try:
        entry.cancel_order(order, request.user)
        messages.success(request, "Cancel requested.")
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("account-orders", number=number)


@login_required
@require_POST
def replace(request, number, order_id):
    account = owned_account(request.user, number)
    order = get_object_or_404(Order, pk=order_id, account=account)
    form = ReplaceForm(request.POST)
    if form.is_valid():
        try:
            new = entry.replace_order(
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
        "orders/order_detail.html",
        {"account": account, "order": order, "executions": order.executions.all(), "form": form},
        status=400,
    )
