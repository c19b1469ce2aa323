"""The security master: US equities loaded from the index lists of `pytickersymbols`.

The lists name each company with its listings (Google-style `EXCHANGE:TICKER` with a
currency) and ISINs, but ship no prices: a loaded security gets a `reference_price`
derived from its symbol (a sha256 of the symbol, mapped to $8 to $600), the price the
simulated market's random walk starts from. Staff may edit it in admin; reloading
leaves it, and the trading flags (halted, tradable, ...), as they are.
"""

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models.functions import Length
from pytickersymbols import PyTickerSymbols

from trading.market.models import Security

DEFAULT_INDICES = ("S&P 500", "NASDAQ 100", "DOW JONES")
US_EXCHANGES = {"NYSE": "NYSE", "NASDAQ": "NASDAQ"}
MIN_REFERENCE_PRICE = Decimal("8.00")
MAX_REFERENCE_PRICE = Decimal("600.00")


@dataclass(frozen=True)
class Listing:
    symbol: str
    name: str
    exchange: str
    isin: str


def reference_price_for(symbol: str) -> Decimal:
    """A stable pseudo-random price for `symbol`, from $8.00 to $600.00 to the cent."""
    digest = hashlib.sha256(f"reference-price|{symbol}".encode()).digest()
    fraction = Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)
    price = MIN_REFERENCE_PRICE + (MAX_REFERENCE_PRICE - MIN_REFERENCE_PRICE) * fraction
    return price.quantize(Decimal("0.01"))


def _exchange_of(stock: dict) -> str | None:
    """NYSE or NASDAQ for the company's own ticker, else None (not a US listing we trade).

    The lists give most S&P 500 names a bare USD ticker without an exchange (and a few
    an OTC one by mistake, e.g. KO and DIS), so when no USD `NYSE:`/`NASDAQ:` listing of
    the ticker is given, the Wikipedia "traded as" text (`NYSE : KO`) decides."""
    symbol = stock["symbol"]
    for listing in stock.get("symbols") or []:
        prefix, _, ticker = listing.get("google", "").partition(":")
        if listing.get("currency") == "USD" and ticker == symbol and prefix in US_EXCHANGES:
            return US_EXCHANGES[prefix]
    traded_as = (stock.get("metadata") or {}).get("traded_as") or ""
    match = re.search(rf"\b(NYSE|Nasdaq|NASDAQ)\s*:\s*{re.escape(symbol)}\b", traded_as)
    return US_EXCHANGES[match.group(1).upper()] if match else None


def us_equities(indices: Iterable[str] = DEFAULT_INDICES) -> list[Listing]:
    """The NYSE and NASDAQ listings of the given indices, each symbol once."""
    tickers = PyTickerSymbols()
    listings: dict[str, Listing] = {}
    for index in indices:
        for stock in tickers.get_stocks_by_index(index):
            symbol = (stock.get("symbol") or "").strip().upper()
            if not symbol or symbol in listings:
                continue
            exchange = _exchange_of(stock | {"symbol": symbol})
            if exchange is None:
                continue
            isins = stock.get("isins") or []
            # Several ISINs (share classes, e.g. GOOG/GOOGL) cannot be told apart: none.
            isin = isins[0] if len(isins) == 1 and len(isins[0]) == 12 else ""
            listings[symbol] = Listing(symbol, stock["name"].strip()[:200], exchange, isin)
    return list(listings.values())


@transaction.atomic
def load_securities(indices: Iterable[str] = DEFAULT_INDICES) -> tuple[int, int]:
    """Upsert the US equities of `indices` into the security master; returns
    (created, updated). Running it again changes nothing and returns (0, 0)."""
    listings = us_equities(indices)
    existing = {
        security.symbol: security
        for security in Security.objects.select_for_update().filter(
            symbol__in=[listing.symbol for listing in listings]
        )
    }
    to_create, to_update = [], []
    for listing in listings:
        security = existing.get(listing.symbol)
        if security is None:
            to_create.append(
                Security(
                    symbol=listing.symbol,
                    name=listing.name,
                    exchange=listing.exchange,
                    isin=listing.isin,
                    reference_price=reference_price_for(listing.symbol),
                )
            )
        elif (security.name, security.exchange, security.isin) != (
            listing.name,
            listing.exchange,
            listing.isin,
        ):
            security.name, security.exchange, security.isin = (
                listing.name,
                listing.exchange,
                listing.isin,
            )
            to_update.append(security)
    Security.objects.bulk_create(to_create)
    Security.objects.bulk_update(to_update, ["name", "exchange", "isin"])
    return len(to_create), len(to_update)


def search_securities(text: str, limit: int = 10) -> list[Security]:
    """Securities for a symbol box: symbols starting with `text` first (exact match on
    top), then names containing it. Inactive securities are left out."""
    text = (text or "").strip()
    if not text:
        return []
    active = Security.objects.filter(status=Security.Status.ACTIVE)
    by_symbol = list(
        active.filter(symbol__istartswith=text).order_by(Length("symbol"), "symbol")[:limit]
    )
    if len(by_symbol) < limit:
        by_symbol += list(
            active.filter(name__icontains=text)
            .exclude(pk__in=[s.pk for s in by_symbol])
            .order_by("symbol")[: limit - len(by_symbol)]
        )
    return by_symbol
