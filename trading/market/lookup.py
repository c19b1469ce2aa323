"""Finding the security a customer means from what they typed: a symbol, a company name
("Tesla"), or a near miss ("APPL" → AAPL)."""

import difflib
import re
from dataclasses import dataclass, field

from trading.market.models import Security

MAX_SUGGESTIONS = 3
# "Tesla, Inc." → "tesla"; the words a customer leaves out of a company's name.
_SUFFIXES = re.compile(
    r"[,.]|\b(inc|incorporated|corp|corporation|co|company|ltd|plc|holdings?|group|class [a-z]|"
    r"the|sa|nv|ag|llc|lp)\b",
    re.IGNORECASE,
)


def _short_name(name: str) -> str:
    return " ".join(_SUFFIXES.sub(" ", name).lower().split())


@dataclass(frozen=True)
class Lookup:
    security: Security | None  # the one security meant, if there is one
    suggestions: list[Security] = field(default_factory=list)  # else what was likely meant


def lookup_security(text: str) -> Lookup:
    """The active security `text` names: by its symbol, or by its company's name (without
    "Inc.", "Corporation" and the like) when exactly one company has it; else up to three
    suggestions (names containing the text, then symbols and names spelled nearly alike)."""
    text = " ".join((text or "").split())[:60]
    if not text:
        return Lookup(None)
    active = Security.objects.filter(status=Security.Status.ACTIVE)
    by_symbol = active.filter(symbol=text.upper()[:12]).first()
    if by_symbol:
        return Lookup(by_symbol)
    wanted = _short_name(text)
    named = list(active.filter(name__icontains=text).order_by("symbol")[:20]) if wanted else []
    exact = [s for s in named if _short_name(s.name) == wanted]
    if len(exact) == 1:
        return Lookup(exact[0])
    # A part of a name ("APPL" is in "Apple") or a near miss is suggested, never guessed.
    suggestions = (exact or named)[:MAX_SUGGESTIONS]
    for security in near_misses(text):
        if len(suggestions) < MAX_SUGGESTIONS and security not in suggestions:
            suggestions.append(security)
    return Lookup(None, suggestions)


def near_misses(text: str) -> list[Security]:
    """Symbols and company names spelled nearly like `text` (a transposition, a letter
    wrong or missing), closest first."""
    rows = list(
        Security.objects.filter(status=Security.Status.ACTIVE).values_list("pk", "symbol", "name")
    )
    symbols = {symbol: pk for pk, symbol, _ in rows}
    names: dict[str, int] = {}
    for pk, _, name in rows:
        names.setdefault(_short_name(name), pk)
    picked: list[int] = []
    for match in difflib.get_close_matches(text.upper(), symbols, n=MAX_SUGGESTIONS, cutoff=0.7):
        picked.append(symbols[match])
    for match in difflib.get_close_matches(
        _short_name(text), names, n=MAX_SUGGESTIONS, cutoff=0.75
    ):
        if names[match] not in picked:
            picked.append(names[match])
    by_pk = Security.objects.in_bulk(picked[:MAX_SUGGESTIONS])
    return [by_pk[pk] for pk in picked[:MAX_SUGGESTIONS] if pk in by_pk]
