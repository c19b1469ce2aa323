"""Tax lots, first in, first out: which shares each sale sold, what they cost, and the
gain it realized.

Lots are not stored: they are replayed from the account's executions, the record of what
was bought and sold (docs/decisions/0008-tax-lots-from-executions.md). A fill that the
market busted is left out, a corrected one counts at its corrected price, and positions
that existed before this code (or that the demo data made) have their lots at once, with
no migration to keep in step. One query per account, ordered by the trade time.

Basis and proceeds are net of costs, as a Form 1099-B reports them: a buy's commission
adds to the lot's cost; a sale's commission and regulatory fees come off its proceeds,
shared between the lots it sold in proportion to their shares. Shares the executions do
not explain (a position moved in from elsewhere) are a lot of unknown acquisition date at
the position's average cost, flagged. Wash sales are not adjusted.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils import timezone

from accounts.opening.models import Account
from trading.orders.models import Execution, OrderSide, Position, PositionAdjustment

CENT = Decimal("0.01")
ZERO = Decimal("0")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def is_long_term(acquired: date | None, sold: date) -> bool | None:
    """Held more than one year (IRS: from the day after the purchase), None if unknown."""
    if acquired is None:
        return None
    try:
        anniversary = acquired.replace(year=acquired.year + 1)
    except ValueError:  # bought on February 29
        anniversary = date(acquired.year + 1, 3, 1)
    return sold > anniversary


@dataclass
class Lot:
    security_id: int
    symbol: str
    acquired_on: date | None  # None: not bought here (unknown)
    qty: int  # shares bought
    remaining: int  # shares still held
    cost: Decimal  # basis of the shares still held, to the cent
    execution_id: int | None = None

    @property
    def unknown_basis(self) -> bool:
        return self.execution_id is None

    @property
    def cost_per_share(self) -> Decimal:
        return (self.cost / self.remaining).quantize(Decimal("0.0001")) if self.remaining else ZERO


@dataclass(frozen=True)
class Disposal:
    """Shares of one lot sold by one sale."""

    security_id: int
    symbol: str
    name: str
    qty: int | Decimal  # a fraction of a share for cash in lieu
    acquired_on: date | None
    sold_on: date
    proceeds: Decimal
    cost_basis: Decimal | None  # None: the shares' cost is not known here
    sell_execution_id: int  # 0: cash in lieu of a fraction (see adjustment_id)
    lot_execution_id: int | None
    adjustment_id: int | None = None  # the split that paid cash in lieu

    @property
    def gain(self) -> Decimal | None:
        return None if self.cost_basis is None else self.proceeds - self.cost_basis

    @property
    def long_term(self) -> bool | None:
        return is_long_term(self.acquired_on, self.sold_on)

    @property
    def term(self) -> str:
        return {True: "long", False: "short", None: "unknown"}[self.long_term]


@dataclass
class LotBook:
    lots: dict[int, list[Lot]] = field(default_factory=lambda: defaultdict(list))
    disposals: list[Disposal] = field(default_factory=list)

    def open_lots(self, security_id: int) -> list[Lot]:
        return [lot for lot in self.lots.get(security_id, []) if lot.remaining > 0]

    def realized(self, year: int | None = None) -> Decimal:
        """Gains realized (in `year`, or ever), where the basis is known."""
        return sum(
            (
                d.gain
                for d in self.disposals
                if d.gain is not None and (year is None or d.sold_on.year == year)
            ),
            ZERO,
        )

    def years(self) -> list[int]:
        return sorted({d.sold_on.year for d in self.disposals}, reverse=True)


def replay(account: Account, *, reconcile: bool = True) -> LotBook:
    """The account's lots and disposals, FIFO, from its executions in trade order; with
    `reconcile`, shares held that the executions do not explain become a flagged lot."""
    book = LotBook()
    executions = (
        Execution.objects.filter(order__account=account, busted_at__isnull=True)
        .select_related("order__security")
        .order_by("executed_at", "id")
    )
    splits = list(
        PositionAdjustment.objects.filter(
            account=account, kind=PositionAdjustment.Kind.SPLIT, ratio_new__isnull=False
        )
        .select_related("security")
        .order_by("effective_on", "id")
    )
    for execution in executions:
        security = execution.order.security
        day = timezone.localtime(execution.executed_at).date()
        while splits and splits[0].effective_on <= day:  # a split counts from its ex-date
            _split(book, splits.pop(0))
        principal = execution.price * execution.qty
        if execution.order.side == OrderSide.BUY:
            book.lots[security.pk].append(
                Lot(
                    security.pk,
                    security.symbol,
                    day,
                    execution.qty,
                    execution.qty,
                    _cents(principal + execution.commission),
                    execution.pk,
                )
            )
            continue
        _sell(book, security, execution, day, principal)
    for split in splits:
        _split(book, split)
    if reconcile:
        _reconcile(book, account)
    return book


def _sell(book: LotBook, security, execution: Execution, day: date, principal: Decimal) -> None:
    proceeds_left = _cents(principal - execution.commission - execution.fees)
    to_sell = execution.qty
    lots = book.lots[security.pk]
    while to_sell > 0:
        lot = next((lot for lot in lots if lot.remaining > 0), None)
        piece = min(to_sell, lot.remaining) if lot else to_sell
        proceeds = proceeds_left if piece == to_sell else _cents(proceeds_left * piece / to_sell)
        basis = None
        if lot is not None:
            basis = lot.cost if piece == lot.remaining else _cents(lot.cost * piece / lot.remaining)
            lot.cost -= basis
            lot.remaining -= piece
        book.disposals.append(
            Disposal(
                security.pk,
                security.symbol,
                security.name,
                piece,
                lot.acquired_on if lot else None,
                day,
                proceeds,
                basis,
                execution.pk,
                lot.execution_id if lot else None,
            )
        )
        proceeds_left -= proceeds
        to_sell -= piece


def _split(book: LotBook, adjustment: PositionAdjustment) -> None:
    """Apply a split (or reverse split) to the open lots of its security: each lot keeps
    its acquisition date and its cost per share divided by the ratio. Whole shares are
    handed out oldest lot first, flooring the running total, so the fraction of a share
    the split leaves comes out of the newest lot; with cash in lieu paid for it, that
    fraction is a disposal on the ex-date (its basis: what the lots' cost gave up),
    without cash its basis stays in the newest lot."""
    lots = book.open_lots(adjustment.security_id)
    if not lots:
        return
    ratio = Fraction(adjustment.ratio_new, adjustment.ratio_old)
    total_cost = sum((lot.cost for lot in lots), ZERO)
    before = running = Fraction(0)
    for lot in lots:
        exact = lot.remaining * ratio
        running += exact
        shares = int(running) - int(before)
        before = running
        lot.cost = (
            _cents(lot.cost * shares * exact.denominator / exact.numerator) if exact else ZERO
        )
        lot.remaining = shares
    fraction_basis = total_cost - sum((lot.cost for lot in lots), ZERO)
    fraction = running - int(running)
    if not fraction:
        lots[-1].cost += fraction_basis  # rounding cents only
        return
    newest = lots[-1]
    if adjustment.cash_in_lieu is None:
        newest.cost += fraction_basis
        return
    book.disposals.append(
        Disposal(
            adjustment.security_id,
            adjustment.security.symbol,
            adjustment.security.name,
            adjustment.fraction.normalize(),
            newest.acquired_on,
            adjustment.effective_on,
            adjustment.cash_in_lieu,
            fraction_basis,
            0,
            newest.execution_id,
            adjustment.pk,
        )
    )


def _reconcile(book: LotBook, account: Account) -> None:
    for position in Position.objects.filter(account=account, qty__gt=0).select_related("security"):
        held = sum(lot.remaining for lot in book.lots.get(position.security_id, []))
        if position.qty > held:
            missing = position.qty - held
            book.lots[position.security_id].insert(
                0,
                Lot(
                    position.security_id,
                    position.security.symbol,
                    None,
                    missing,
                    missing,
                    _cents(position.avg_cost * missing),
                ),
            )
