"""Money in the pages: `{{ value|signed_money }}` gives +$1,234.50, a minus sign (U+2212)
and $1,234.50, or $0.00."""

from decimal import Decimal, InvalidOperation

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def signed_money(value) -> str:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = "+" if amount > 0 else "−" if amount < 0 else ""
    return f"{sign}${floatformat(abs(amount), '2g')}"
