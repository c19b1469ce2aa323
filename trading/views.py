"""Customer pages for market data: the quote box other pages embed."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from . import market_data
from .models import Security


@login_required
def quote_box(request, symbol):
    """An htmx partial with the symbol's quote and change from the previous close; it
    polls itself every 5 seconds."""
    security = get_object_or_404(Security, symbol=symbol.strip().upper())
    quote = market_data.get_quote(security.symbol)
    if quote is None:
        raise Http404
    previous_close = market_data.get_previous_close(security.symbol)
    change = change_pct = None
    if previous_close:
        change = quote.last - previous_close
        change_pct = (change / previous_close * 100).quantize(Decimal("0.01"))
    places = 2 if security.price_increment >= Decimal("0.01") else 4
    return render(
        request,
        "trading/_quote.html",
        {
            "security": security,
            "quote": quote,
            "previous_close": previous_close,
            "change": change,
            "change_pct": change_pct,
            "price_format": f"{places}g",
        },
    )
