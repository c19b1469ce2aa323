"""The security master: US listings from Nasdaq Trader's symbol directory, with ISINs
from the index lists of `pytickersymbols`.

`trading/market/data/` holds the symbol directory's two files as Nasdaq publishes them
(source and date in its README): every NASDAQ listing, and the NYSE, NYSE American,
NYSE Arca and Cboe BZX listings, with an ETF flag. The loader keeps common stocks,
ADRs, REIT and partnership units and ETFs, and leaves out test issues, warrants,
rights, SPAC units, preferreds, notes and ETNs. `pytickersymbols` adds the ISIN (and the
short company name) of the S&P 500, NASDAQ 100 and Dow Jones members.

Neither source has prices: a loaded security gets a `reference_price` derived from its
symbol (a sha256 of the symbol, mapped to $8 to $600), the price the simulated market's
random walk starts from, and that is all a new symbol needs to be quoted and traded.
Staff may edit it in admin; reloading leaves it, and the trading flags (halted,
tradable, ...), as they are.
"""

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models.functions import Length
from pytickersymbols import PyTickerSymbols

from trading.market.models import Security

DEFAULT_INDICES = ("S&P 500", "NASDAQ 100", "DOW JONES")
US_EXCHANGES = {"NYSE": "NYSE", "NASDAQ": "NASDAQ"}
MIN_REFERENCE_PRICE = Decimal("8.00")
MAX_REFERENCE_PRICE = Decimal("600.00")
DIRECTORY = Path(__file__).resolve().parent / "data"
# otherlisted.txt's exchange codes, as the trading API names the exchanges. IEX (V)
# listings are left out: Alpaca's asset exchanges have no IEX.
OTHER_EXCHANGES = {"N": "NYSE", "A": "AMEX", "P": "ARCA", "Z": "BATS"}
SYMBOL = re.compile(r"^[A-Z][A-Z0-9]{0,9}(\.[A-Z]{1,2})?$")
NOT_EQUITY = re.compile(
    r"\b(warrants?|rights?|preferred|pfd|preference|notes?|debentures?|etns?|"
    r"subordinated|perpetual|trust preferred|exchange[- ]traded notes?)\b",
    re.IGNORECASE,
)
UNITS = re.compile(r"\bunits?\b", re.IGNORECASE)
PARTNERSHIP_UNITS = re.compile(r"limited partner|partnership|representing", re.IGNORECASE)


@dataclass(frozen=True)
class Listing:
    symbol: str
    name: str
    exchange: str
    isin: str
    is_etf: bool = False


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


def _rows(name: str) -> list[list[str]]:
    lines = (DIRECTORY / name).read_text(encoding="ascii").splitlines()
    return [line.split("|") for line in lines[1:] if not line.startswith("File Creation Time")]


def _is_equity(symbol: str, name: str, is_etf: bool) -> bool:
    if not SYMBOL.match(symbol):
        return False  # preferreds ($), warrants (+), units (=) and when-issued (#) symbols
    if is_etf:
        return True
    if NOT_EQUITY.search(name):
        return False
    return not (UNITS.search(name) and not PARTNERSHIP_UNITS.search(name))


def _clean_name(name: str) -> str:
    return " ".join(name.replace(" - ", " ").split())[:200]


def directory_listings() -> list[Listing]:
    """The equities and ETFs of the symbol directory (`trading/market/data/`)."""
    listings: dict[str, Listing] = {}
    # nasdaqlisted.txt: Symbol|Security Name|Market Category|Test Issue|Financial Status|
    # Round Lot Size|ETF|NextShares
    for row in _rows("nasdaqlisted.txt"):
        if len(row) < 8 or row[3] != "N" or row[7] == "Y":
            continue
        symbol, name, is_etf = row[0].strip(), row[1].strip(), row[6] == "Y"
        if _is_equity(symbol, name, is_etf):
            listings[symbol] = Listing(symbol, _clean_name(name), "NASDAQ", "", is_etf)
    # otherlisted.txt: ACT Symbol|Security Name|Exchange|CQS Symbol|ETF|Round Lot Size|
    # Test Issue|NASDAQ Symbol
    for row in _rows("otherlisted.txt"):
        if len(row) < 8 or row[6] != "N" or row[2] not in OTHER_EXCHANGES:
            continue
        symbol, name, is_etf = row[0].strip(), row[1].strip(), row[4] == "Y"
        if symbol not in listings and _is_equity(symbol, name, is_etf):
            exchange = OTHER_EXCHANGES[row[2]]
            listings[symbol] = Listing(symbol, _clean_name(name), exchange, "", is_etf)
    return list(listings.values())


def all_listings(indices: Iterable[str] = DEFAULT_INDICES) -> list[Listing]:
    """The directory's listings, the index members' ISINs and names laid over them (and
    an index member the directory no longer lists kept as the index gives it)."""
    listings = {listing.symbol: listing for listing in directory_listings()}
    for member in us_equities(indices):
        found = listings.get(member.symbol)
        if found is None:
            listings[member.symbol] = member
        else:
            listings[member.symbol] = replace(found, name=member.name, isin=member.isin)
    return sorted(listings.values(), key=lambda listing: listing.symbol)


@transaction.atomic
def load_securities(
    indices: Iterable[str] = DEFAULT_INDICES, *, directory: bool = True
) -> tuple[int, int]:
    """Upsert the directory's US listings (or, with `directory=False`, only the members
    of `indices`) into the security master; returns (created, updated). Running it
    again changes nothing and returns (0, 0)."""
    listings = all_listings(indices) if directory else us_equities(indices)
    fields = ("name", "exchange", "isin", "is_etf")
    existing = {
        security.symbol: security
        for security in Security.objects.select_for_update().filter(
            symbol__in=[listing.symbol for listing in listings]
        )
    }
    to_create, to_update = [], []
    for listing in listings:
        security = existing.get(listing.symbol)
        values = {name: getattr(listing, name) for name in fields}
        if security is None:
            to_create.append(
                Security(
                    symbol=listing.symbol,
                    reference_price=reference_price_for(listing.symbol),
                    **values,
                )
            )
        elif any(getattr(security, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(security, name, value)
            to_update.append(security)
    Security.objects.bulk_create(to_create, batch_size=1000)
    Security.objects.bulk_update(to_update, fields, batch_size=1000)
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
