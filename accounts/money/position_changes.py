"""Position changes that are no trades (stock splits, adjustments to the clearing firm's
quantity), shown on the activity page beside the cash. Positions live on the trading
side, which registers where to read them when it loads (`trading.apps`): accounts never
imports trading."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from accounts.opening.models import Account


@dataclass(frozen=True)
class PositionChange:
    day: date
    symbol: str
    description: str
    qty_change: int


def _none(account: Account, limit: int) -> list[PositionChange]:
    return []


_source: Callable[[Account, int], list[PositionChange]] = _none


def register_source(source: Callable[[Account, int], list[PositionChange]]) -> None:
    global _source
    _source = source


def recent(account: Account, limit: int = 20) -> list[PositionChange]:
    """The account's latest position changes, newest first."""
    return _source(account, limit)
