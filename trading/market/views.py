"""Customer pages for market data: the quote box other pages embed."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from rushtrade.errors import ServiceError
from trading.market import market_data, watchlist
from trading.market.models import Security
from trading.market.securities import search_securities


@login_required
def symbol_search(request):
    """The options of the order ticket's symbol box (an htmx partial: a datalist's
    options), for what has been typed so far."""
    text = request.GET.get("symbol") or request.GET.get("q") or ""
    return render(
        request, "market/_symbol_options.html", {"securities": search_securities(text[:40])}
    )


@login_required
def ticket_quote(request):
    """The quote box of the symbol typed in the order ticket, or a line saying there is
    no such symbol."""
    symbol = (request.GET.get("symbol") or "").strip().upper()[:12]
    if not symbol:
        return render(request, "market/_no_quote.html", {"symbol": ""})
    if not Security.objects.filter(symbol=symbol).exists():
        return render(request, "market/_no_quote.html", {"symbol": symbol})
    return quote_box(request, symbol)


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
        "market/_quote.html",
        {
            "security": security,
            "quote": quote,
            "previous_close": previous_close,
            "change": change,
            "change_pct": change_pct,
            "price_format": f"{places}g",
        },
    )


@login_required
def watchlist_page(request):
    """The customer's watchlist: add and remove symbols; quotes refresh themselves."""
    error = None
    suggestions = []
    if request.method == "POST":
        symbol = request.POST.get("symbol", "")
        try:
            if request.POST.get("action") == "remove":
                watchlist.remove_symbol(request.user, symbol)
            else:
                watchlist.add_symbol(request.user, symbol)
                return redirect("watchlist")
        except ServiceError as exc:
            error = exc.message
            suggestions = getattr(exc, "suggestions", [])
    quotes = watchlist.watched_quotes(request.user)
    if request.headers.get("HX-Request") and request.method == "GET":
        return render(request, "market/_watchlist_table.html", {"quotes": quotes})
    return render(
        request,
        "market/watchlist.html",
        {
            "quotes": quotes,
            "error": error,
            "suggestions": suggestions,
            "accounts": request.user.accounts.all(),
        },
        status=400 if error else 200,
    )
