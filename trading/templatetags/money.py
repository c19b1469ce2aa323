"""Money in the pages, formatted in Python (the positions table has thousands of figures;
`floatformat` goes through localization and costs several times more):
`{{ value|usd }}` gives $1,234.50 and `{{ value|signed_money }}` gives +$1,234.50, a
minus sign (U+2212) and $1,234.50, or $0.00."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()
MINUS = "\u2212"


def _decimal(value) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def usd(value) -> str:
    amount = _decimal(value)
    if amount is None:
        return ""
    return f"{MINUS if amount < 0 else ''}${abs(amount):,.2f}"


@register.filter
def signed_money(value) -> str:
    amount = _decimal(value)
    if amount is None:
        return ""
    sign = "+" if amount > 0 else MINUS if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def shares(value) -> str:
    """A share quantity with thousands separators: 12,500 (a fraction of a share, as
    cash in lieu sells, as it is: 0.5)."""
    try:
        number = Decimal(str(value))
    except (TypeError, ValueError, ArithmeticError):
        return ""
    if not number.is_finite():
        return ""
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.normalize():,f}"


@register.filter
def price(value) -> str:
    """A per-share price: cents, or four places when it has sub-penny digits
    ($100.01, $105.0105, $0.1234)."""
    amount = _decimal(value)
    if amount is None:
        return ""
    places = 2 if amount == amount.quantize(Decimal("0.01")) else 4
    return f"{MINUS if amount < 0 else ''}${abs(amount):,.{places}f}"


@register.filter
def order_terms(order) -> str:
    """An order's type and prices, each said once: "Market", "Limit $99",
    "Stop $95", "Stop limit: stop $95, limit $94", "Trailing stop $95" (its current
    stop, when known)."""
    kind = order.get_order_type_display()
    if order.order_type == "stop_limit" and order.stop_price and order.limit_price:
        return f"{kind}: stop {price(order.stop_price)}, limit {price(order.limit_price)}"
    if order.stop_price:
        return f"{kind} {price(order.stop_price)}"
    if order.limit_price:
        return f"{kind} {price(order.limit_price)}"
    return kind
