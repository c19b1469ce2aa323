from django import forms
from django.urls import reverse_lazy

from rushtrade.forms import BootstrapMixin, ConditionalFieldsMixin
from trading.orders.models import PLAIN_ORDER_TYPE_CHOICES, OrderSide, OrderType, TimeInForce


class OrderTicketForm(ConditionalFieldsMixin, BootstrapMixin, forms.Form):
    """Shapes only; the order rules and their messages are in trading.orders.entry. The
    limit and stop prices are asked for only for the order types that use them (and a
    price left in a hidden field is not sent)."""

    show_when = {
        "limit_price": ("order_type", (OrderType.LIMIT, OrderType.STOP_LIMIT)),
        "stop_price": ("order_type", (OrderType.STOP, OrderType.STOP_LIMIT)),
    }

    symbol = forms.CharField(
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "class": "text-uppercase",
                "list": "symbol-options",
                # Suggestions as the customer types (trading.market.views.symbol_search).
                "hx-get": reverse_lazy("symbol-search"),
                "hx-trigger": "input changed delay:200ms",
                "hx-target": "#symbol-options",
                "hx-swap": "innerHTML",
            }
        ),
    )
    side = forms.ChoiceField(choices=OrderSide.choices, widget=forms.RadioSelect)
    qty = forms.CharField(
        max_length=20,
        label="Quantity (shares)",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    order_type = forms.ChoiceField(choices=PLAIN_ORDER_TYPE_CHOICES, label="Order type")
    limit_price = forms.CharField(
        max_length=20,
        required=False,
        label="Limit price",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    stop_price = forms.CharField(
        max_length=20,
        required=False,
        label="Stop price",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    time_in_force = forms.ChoiceField(choices=TimeInForce.choices, label="Time in force")
    client_order_id = forms.CharField(widget=forms.HiddenInput, max_length=128)

    def order_values(self) -> dict:
        data = self.cleaned_data
        return {
            "symbol": data["symbol"],
            "side": data["side"],
            "order_type": data["order_type"],
            "time_in_force": data["time_in_force"],
            "qty": data["qty"],
            "limit_price": data["limit_price"] or None,
            "stop_price": data["stop_price"] or None,
        }


class ReplaceForm(BootstrapMixin, forms.Form):
    qty = forms.CharField(max_length=20, required=False, label="New quantity")
    limit_price = forms.CharField(max_length=20, required=False, label="New limit price")
    stop_price = forms.CharField(max_length=20, required=False, label="New stop price")
