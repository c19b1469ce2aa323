"""Customers' watchlists: named, ordered lists of symbols with live quotes.

A customer has up to `WATCHLIST_MAX_LISTS` lists of up to `WATCHLIST_MAX_SYMBOLS`
symbols each. The watchlist page works on the first one (the "Primary Watchlist",
made on first use); the trading API (/v2/watchlists) on them all. Every change that
could pass a cap counts with the user row locked, so concurrent requests cannot pass
it together.
"""

import logging
import unicodedata
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError
from trading.market import market_data
from trading.market.lookup import lookup_security
from trading.market.models import Security, Watchlist, WatchlistItem

log = logging.getLogger(__name__)

DEFAULT_NAME = "Primary Watchlist"
MAX_NAME = 64


class UnknownSymbol(ServiceError):
    """No security by that symbol or name; `suggestions` are those likely meant."""

    def __init__(self, message: str, suggestions: list[Security]):
        super().__init__(
            "unknown_symbol", message, {"symbol": FieldError("unknown_symbol", message)}
        )
        self.suggestions = suggestions


def _error(code: str, message: str, field: str = "symbol", status: int = 400) -> ServiceError:
    return ServiceError(code, message, {field: FieldError(code, message)}, status=status)


def _lock(user: User) -> None:
    # The user row is the lock: concurrent adds count one after another, so the caps
    # hold (counting without it let 20 adds at once from 45 end at 51).
    User.objects.select_for_update().filter(pk=user.pk).first()


def _security(symbol, status: int = 400) -> Security:
    if not isinstance(symbol, str) or not symbol.strip():
        raise _error("required", "Type a symbol.")
    symbol = symbol.strip().upper()
    security = Security.objects.filter(symbol=symbol).first()
    if security is None:
        raise _error("unknown_symbol", f"No security with the symbol {symbol[:12]}.", status=status)
    return security


def _securities(symbols) -> list[Security]:
    """The securities of a list of symbols, in order, each once; unknown ones are named (404)."""
    if symbols is None:
        return []
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        raise _error("invalid", "symbols must be a list of symbols.", "symbols", status=422)
    wanted = list(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
    most = settings.WATCHLIST_MAX_SYMBOLS
    if len(wanted) > most:
        raise _error("watchlist_full", f"A watchlist holds at most {most} symbols.", "symbols", 422)
    found = {s.symbol: s for s in Security.objects.filter(symbol__in=wanted)}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        names = ", ".join(u[:12] for u in unknown[:10])
        raise _error("unknown_symbol", f"Unknown symbol: {names}.", "symbols", status=404)
    return [found[s] for s in wanted]


def _name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise _error("required", "A watchlist needs a name.", "name", status=422)
    name = name.strip()
    if len(name) > MAX_NAME:
        raise _error("max_length", f"A name has at most {MAX_NAME} characters.", "name", 422)
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise _error("invalid", "A name cannot hold control characters.", "name", status=422)
    return name


def _not_found() -> ServiceError:
    return ServiceError("not_found", "watchlist not found", status=404)


# --- Reading ---------------------------------------------------------------------------


def watchlists(user: User) -> list[Watchlist]:
    return list(Watchlist.objects.filter(user=user).order_by("created_at", "id"))


def get_watchlist(user: User, watchlist_id: str) -> Watchlist:
    try:
        wanted = uuid.UUID(str(watchlist_id))
    except ValueError:
        raise _not_found() from None
    found = Watchlist.objects.filter(user=user, uuid=wanted).first()
    if found is None:
        raise _not_found()
    return found


def watchlist_by_name(user: User, name) -> Watchlist:
    if not isinstance(name, str) or not name.strip():
        raise _error("required", "name is required.", "name", status=422)
    found = Watchlist.objects.filter(user=user, name=name.strip()).first()
    if found is None:
        raise _not_found()
    return found


def securities_of(watchlist: Watchlist) -> list[Security]:
    """The watchlist's securities in the order they were added."""
    items = WatchlistItem.objects.filter(watchlist=watchlist).select_related("security")
    return [item.security for item in items.order_by("id")]


# --- Changing --------------------------------------------------------------------------


def _check_list_cap(user: User) -> None:
    most = settings.WATCHLIST_MAX_LISTS
    if Watchlist.objects.filter(user=user).count() >= most:
        log.warning("watchlist create refused: user %s has %s watchlists", user.pk, most)
        raise _error("too_many_watchlists", f"At most {most} watchlists; delete one first.", "name")


def _unique_name(user: User, name: str, exclude: Watchlist | None = None) -> None:
    taken = Watchlist.objects.filter(user=user, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise _error("name_taken", f"You already have a watchlist named {name}.", "name", 422)


def _fill(user: User, watchlist: Watchlist, securities: list[Security]) -> None:
    WatchlistItem.objects.bulk_create(
        WatchlistItem(user=user, watchlist=watchlist, security=s) for s in securities
    )


@transaction.atomic
def create_watchlist(user: User, name, symbols=None) -> Watchlist:
    name = _name(name)
    securities = _securities(symbols)
    _lock(user)
    _check_list_cap(user)
    _unique_name(user, name)
    watchlist = Watchlist.objects.create(user=user, name=name)
    _fill(user, watchlist, securities)
    return watchlist


@transaction.atomic
def update_watchlist(user: User, watchlist: Watchlist, name=None, symbols=None) -> Watchlist:
    """Rename and/or replace the content (PUT): `symbols` given replaces every symbol."""
    if name is None and symbols is None:
        raise _error("required", "Give a new name or symbols.", "name", status=422)
    new_name = _name(name) if name is not None else None
    securities = _securities(symbols) if symbols is not None else None
    _lock(user)
    watchlist = Watchlist.objects.select_for_update().get(pk=watchlist.pk)
    if new_name is not None:
        _unique_name(user, new_name, exclude=watchlist)
        watchlist.name = new_name
    if securities is not None:
        WatchlistItem.objects.filter(watchlist=watchlist).delete()
        _fill(user, watchlist, securities)
    watchlist.save()
    return watchlist


@transaction.atomic
def add_to_watchlist(user: User, watchlist: Watchlist, symbol) -> Watchlist:
    """Append `symbol` (already there: nothing changes)."""
    security = _security(symbol, status=404)
    _lock(user)
    if not WatchlistItem.objects.filter(watchlist=watchlist, security=security).exists():
        most = settings.WATCHLIST_MAX_SYMBOLS
        if WatchlistItem.objects.filter(watchlist=watchlist).count() >= most:
            log.warning(
                "watchlist add refused: watchlist %s of user %s has %s symbols",
                watchlist.uuid,
                user.pk,
                most,
            )
            raise _error(
                "watchlist_full", f"A watchlist holds at most {most} symbols; remove one first."
            )
        WatchlistItem.objects.create(user=user, watchlist=watchlist, security=security)
        watchlist.save(update_fields=["updated_at"])
    return watchlist


@transaction.atomic
def remove_from_watchlist(user: User, watchlist: Watchlist, symbol) -> Watchlist:
    symbol = (symbol or "").strip().upper() if isinstance(symbol, str) else ""
    deleted, _ = WatchlistItem.objects.filter(watchlist=watchlist, security__symbol=symbol).delete()
    if not deleted:
        raise _error(
            "not_found", f"{symbol[:12] or 'That symbol'} is not on this watchlist.", status=404
        )
    watchlist.save(update_fields=["updated_at"])
    return watchlist


def delete_watchlist(user: User, watchlist: Watchlist) -> None:
    Watchlist.objects.filter(user=user, pk=watchlist.pk).delete()


# --- The watchlist page: the customer's first list ----------------------------------------


def default_watchlist(user: User) -> Watchlist:
    """The customer's first watchlist, made (as the "Primary Watchlist") when there is none."""
    found = Watchlist.objects.filter(user=user).order_by("created_at", "id").first()
    if found is not None:
        return found
    with transaction.atomic():
        _lock(user)
        found = Watchlist.objects.filter(user=user).order_by("created_at", "id").first()
        if found is None:
            try:
                with transaction.atomic():
                    found = Watchlist.objects.create(user=user, name=DEFAULT_NAME)
            except IntegrityError:  # a list of that name made through the API meanwhile
                found = Watchlist.objects.get(user=user, name=DEFAULT_NAME)
        return found


def add_symbol(user: User, symbol: str) -> WatchlistItem:
    """Follow the security `symbol` names (its symbol, or its company's name) on the first
    watchlist; adding one already there returns it."""
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
    watchlist = default_watchlist(user)
    add_to_watchlist(user, watchlist, security.symbol)
    return WatchlistItem.objects.get(watchlist=watchlist, security=security)


def remove_symbol(user: User, symbol: str) -> bool:
    first = Watchlist.objects.filter(user=user).order_by("created_at", "id").first()
    if first is None:
        return False
    deleted, _ = WatchlistItem.objects.filter(
        watchlist=first, security__symbol=(symbol or "").strip().upper()
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
    """The first watchlist with quotes: one query, and the quote cache in two round trips."""
    first = Watchlist.objects.filter(user=user).order_by("created_at", "id").first()
    items = WatchlistItem.objects.filter(watchlist=first).select_related("security")
    securities = [item.security for item in items] if first else []
    symbols = [s.symbol for s in securities]
    quotes = market_data.get_quotes(symbols) if symbols else {}
    closes = market_data.get_previous_closes(symbols) if symbols else {}
    return [WatchedQuote(s, quotes.get(s.symbol), closes.get(s.symbol)) for s in securities]
