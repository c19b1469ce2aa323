"""A customer's watchlist: symbols they follow, with live quotes."""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError
from trading.market import market_data
from trading.market.lookup import lookup_security
from trading.market.models import Security, WatchlistItem

log = logging.getLogger(__name__)


class UnknownSymbol(ServiceError):
    """No security by that symbol or name; `suggestions` are those likely meant."""

    def __init__(self, message: str, suggestions: list[Security]):
        super().__init__(
            "unknown_symbol", message, {"symbol": FieldError("unknown_symbol", message)}
        )
        self.suggestions = suggestions


def _error(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, {"symbol": FieldError(code, message)})


def add_symbol(user: User, symbol: str) -> WatchlistItem:
    """Follow the security `symbol` names (its symbol, or its company's name); adding one
    already followed returns it unchanged."""
    text = " ".join((symbol or "").split())
    if not text:
        raise _error("required", "Type a symbol or a company name.")
    security = Security.objects.filter(symbol=text.upper()[:12]).first()
    if security is None:
        found = lookup_security(text)
        security = found.security
        if security is None:
            message = f"No security with the symbol or name “{text[:40]}”."
            if found.suggestions:
                message += (
                    " Did you mean "
                    + " or ".join(f"{s.symbol} ({s.name})" for s in found.suggestions)
                    + "?"
                )
            raise UnknownSymbol(message, found.suggestions)
    most = settings.WATCHLIST_MAX_SYMBOLS
    with transaction.atomic():
        # The user row is the lock: concurrent adds count one after another, so the
        # cap holds (counting without it let 20 adds at once from 45 end at 51).
        User.objects.select_for_update().filter(pk=user.pk).first()
        existing = WatchlistItem.objects.filter(user=user, security=security).first()
        if existing:
            return existing
        if WatchlistItem.objects.filter(user=user).count() >= most:
            log.warning("watchlist add refused: user %s has %s symbols", user.pk, most)
            raise _error(
                "watchlist_full", f"A watchlist holds at most {most} symbols; remove one first."
            )
        return WatchlistItem.objects.create(user=user, security=security)


def remove_symbol(user: User, symbol: str) -> bool:
    deleted, _ = WatchlistItem.objects.filter(
        user=user, security__symbol=(symbol or "").strip().upper()
    ).delete()
    return bool(deleted)


@dataclass(frozen=True)
class WatchedQuote:
    security: Security
    quote: market_data.Quote | None
    previous_close: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.quote is None or self.previous_close is None:
            return None
        return self.quote.last - self.previous_close

    @property
    def change_pct(self) -> Decimal | None:
        change = self.change
        if change is None or not self.previous_close:
            return None
        return (change / self.previous_close * 100).quantize(Decimal("0.01"))


def watched_quotes(user: User) -> list[WatchedQuote]:
    """The watchlist with quotes: one query, and the quote cache in two round trips."""
    securities = [
        item.security for item in WatchlistItem.objects.filter(user=user).select_related("security")
    ]
    symbols = [s.symbol for s in securities]
    quotes = market_data.get_quotes(symbols) if symbols else {}
    closes = market_data.get_previous_closes(symbols) if symbols else {}
    return [WatchedQuote(s, quotes.get(s.symbol), closes.get(s.symbol)) for s in securities]
