"""Changes to positions that are no fills: stock splits and staff accepting the clearing
firm's quantity. Each is a `PositionAdjustment` row written with the position, once per
reference."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db import transaction

from accounts.money import ledger
from accounts.opening.models import Account
from accounts.users.models import User
from trading.market.models import Security
from trading.orders.models import Position, PositionAdjustment

PRICE_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")


@transaction.atomic
def adjust_position(
    account: Account,
    security: Security,
    *,
    kind: PositionAdjustment.Kind,
    reference: str,
    effective_on: date,
    description: str,
    qty_change: int | None = None,
    ratio: Fraction | None = None,
    cash_in_lieu_price: Decimal | None = None,
    reason: str = "",
    by: User | None = None,
) -> tuple[PositionAdjustment, bool]:
    """Change a position by `qty_change` shares, or multiply it by `ratio` (a split,
    or a reverse split: the average cost divided by it). A split's fraction of a share
    is dropped from the position and recorded with its cash in lieu at
    `cash_in_lieu_price` (the caller posts the cash). Applied once per `reference`: a
    repeat returns the first adjustment and False."""
    existing = PositionAdjustment.objects.filter(reference=reference).first()
    if existing:
        return existing, False
    ledger.lock_account(account)
    position, _ = Position.objects.select_for_update().get_or_create(
        account=account, security=security
    )
    before_qty, before_cost = position.qty, position.avg_cost
    fraction, cash = Fraction(0), None
    if ratio is not None:
        after_qty = int(before_qty * ratio)  # toward zero: a fraction is dropped
        fraction = before_qty * ratio - after_qty
        if fraction and cash_in_lieu_price is not None and before_qty > 0:
            cash = (cash_in_lieu_price * fraction.numerator / fraction.denominator).quantize(
                CENT, ROUND_HALF_UP
            )
        after_cost = (before_cost / Decimal(ratio.numerator) * Decimal(ratio.denominator)).quantize(
            PRICE_PLACES, ROUND_HALF_UP
        )
    else:
        after_qty = before_qty + (qty_change or 0)
        after_cost = before_cost if after_qty else Decimal("0")
    position.qty, position.avg_cost = after_qty, after_cost if after_qty else Decimal("0")
    position.save(update_fields=["qty", "avg_cost"])
    adjustment = PositionAdjustment.objects.create(
        account=account,
        security=security,
        kind=kind,
        qty_change=after_qty - before_qty,
        qty_after=after_qty,
        avg_cost_before=before_cost,
        avg_cost_after=position.avg_cost,
        effective_on=effective_on,
        ratio_new=ratio.numerator if ratio is not None else None,
        ratio_old=ratio.denominator if ratio is not None else None,
        fraction=(Decimal(fraction.numerator) / Decimal(fraction.denominator)).quantize(
            Decimal("0.000001"), ROUND_HALF_UP
        ),
        cash_in_lieu=cash,
        description=description[:200],
        reason=reason,
        reference=reference,
        created_by=by,
    )
    return adjustment, True


def recent_changes(account: Account, limit: int) -> list:
    """The account's latest position adjustments, newest first (the activity page)."""
    from accounts.money.position_changes import PositionChange

    return [
        PositionChange(a.effective_on, a.security.symbol, a.description, a.qty_change)
        for a in PositionAdjustment.objects.filter(account=account)
        .select_related("security")
        .order_by("-effective_on", "-id")[:limit]
    ]
