"""Finding a security from what a person types: a symbol, a company name, or either with a
typo ("Tesla", "tesl", "APPL", "Microsfot").

The security master is a few hundred rows, so the search ranks them all in Python (about
a millisecond) rather than leaning on a database extension (pg_trgm), which the embedded
SQLite run does not have. The ranking, best first:

1. the symbol itself; 2. symbols starting with the text; 3. names whose words start with
it ("tesla" finds Tesla Inc.); 4. names containing it; 5. symbols one edit away (a letter
wrong, missing, extra, or two swapped: "APPL" finds AAPL); 6. names with a word close to
it (difflib's ratio at least 0.8: "Microsfot" finds Microsoft).
"""

import difflib
import re
from dataclasses import dataclass

from trading.market.models import Security

MAX_QUERY = 40
SIMILAR = 0.8  # difflib's ratio from which a word is taken for a typo of another
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Match:
    security: Security
    rank: int  # lower is better: the best way it matched
    hits: frozenset[str]  # every way it matched: "symbol", "name", "similar symbol", ...
    closeness: float = 0.0  # of the text to the symbol or a word of the name (0..1)

    @property
    def fuzzy(self) -> bool:
        """Found (also) by similarity: what was typed may be a typo of it."""
        return bool(self.hits & {"similar symbol", "similar name"})


def _one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of exactly one (substitution, insertion, deletion,
    or two neighbours swapped)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def find_securities(text: str, limit: int = 10) -> list[Match]:
    """Active securities matching `text`, best first (see the module's ranking)."""
    query = " ".join((text or "").split())[:MAX_QUERY]
    if not query:
        return []
    upper, lower = query.upper(), query.lower()
    words = _WORD.findall(lower)
    found: dict[int, Match] = {}

    def add(security: Security, rank: int, why: str) -> None:
        current = found.get(security.pk)
        if current is None:
            found[security.pk] = Match(security, rank, frozenset({why}))
        else:
            found[security.pk] = Match(security, min(rank, current.rank), current.hits | {why})

    securities = Security.objects.filter(status=Security.Status.ACTIVE).only(
        "id", "symbol", "name", "exchange"
    )
    for security in securities:
        symbol, name = security.symbol, security.name.lower()
        name_words = _WORD.findall(name)
        if symbol == upper:
            add(security, 0, "symbol")
        elif symbol.startswith(upper):
            add(security, 1, "symbol prefix")
        if words and _starts_words(name_words, words):
            add(security, 2, "name")
        elif len(lower) >= 3 and lower in name:
            add(security, 3, "name contains")
        if len(upper) >= 2 and " " not in upper and _one_edit_apart(symbol, upper):
            add(security, 4, "similar symbol")
        if len(lower) >= 4 and words and _close_words(name_words, words):
            add(security, 5, "similar name")
    # Ties go to what matched in more ways, then to what looks most like the text
    # ("APPL": Apple before AppLovin).
    ranked = sorted(
        (Match(m.security, m.rank, m.hits, _closeness(lower, m.security)) for m in found.values()),
        key=lambda m: (
            m.rank,
            -len(m.hits),
            -m.closeness,
            len(m.security.symbol),
            m.security.symbol,
        ),
    )
    return ranked[:limit]


def _starts_words(name_words: list[str], words: list[str]) -> bool:
    """The typed words are consecutive words of the name, the last one begun ("bank of am")."""
    for start in range(len(name_words) - len(words) + 1):
        window = name_words[start : start + len(words)]
        if window[:-1] == words[:-1] and window[-1].startswith(words[-1]):
            return True
    return False


def _similar(typed: str, word: str) -> float:
    matcher = difflib.SequenceMatcher(None, word, typed)
    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
        return 0.0
    return matcher.ratio()


def _close_words(name_words: list[str], words: list[str]) -> bool:
    """Every typed word (of 4 letters or more) is close to some word of the name."""
    long_words = [w for w in words if len(w) >= 4]
    if not long_words:
        return False
    return all(any(_similar(w, n) >= SIMILAR for n in name_words) for w in long_words)


def _closeness(lower: str, security: Security) -> float:
    candidates = [security.symbol.lower(), *_WORD.findall(security.name.lower())]
    return max(difflib.SequenceMatcher(None, lower, c).ratio() for c in candidates)


def resolve_symbol(text: str) -> Security | None:
    """The one security a search box's text surely means: the symbol itself, or the only
    company whose name starts with it. None sends the person to the list of matches
    (where a typo gets its "did you mean")."""
    matches = find_securities(text, limit=2)
    if not matches:
        return None
    best = matches[0]
    if best.rank == 0:
        return best.security
    if best.rank == 2 and (len(matches) == 1 or matches[1].rank > 3):
        return best.security
    return None
