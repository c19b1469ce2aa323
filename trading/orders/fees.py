"""Commissions and regulatory fees on orders and executions.

- Commission: per the schedule in settings (COMMISSION_PER_ORDER, COMMISSION_PER_SHARE,
  COMMISSION_MINIMUM), charged on each execution pro rata to its share of the order
  (the first execution of an order carries the minimum).
- SEC fee (Section 31) on sales: SEC_FEE_RATE x principal, rounded up to the cent.
- FINRA Trading Activity Fee on sales: FINRA_TAF_PER_SHARE x shares, rounded up to the
  cent, at most FINRA_TAF_MAXIMUM per execution.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Charges:
    commission: Decimal
    sec_fee: Decimal
    finra_taf: Decimal

    @property
    def fees(self) -> Decimal:
        return self.sec_fee + self.finra_taf

    @property
    def total(self) -> Decimal:
        return self.commission + self.fees


def commission(qty: int) -> Decimal:
    amount = settings.COMMISSION_PER_ORDER + settings.COMMISSION_PER_SHARE * qty
    return max(amount, settings.COMMISSION_MINIMUM).quantize(CENT, ROUND_HALF_UP)


def charges(
    side: str, qty: int, price: Decimal, *, order_qty: int | None = None, first_fill: bool = True
) -> Charges:
    """What one execution of `qty` shares at `price` costs beyond its principal."""
    order_qty = order_qty or qty
    full = commission(order_qty)
    if first_fill and qty == order_qty:
        this_commission = full
    else:  # pro rata, the first fill carrying any remainder of the rounding
        this_commission = (full * qty / order_qty).quantize(CENT, ROUND_HALF_UP)
    sec_fee = finra_taf = Decimal("0.00")
    if side == "sell":
        principal = price * qty
        sec_fee = (principal * settings.SEC_FEE_RATE).quantize(CENT, ROUND_CEILING)
        finra_taf = min(
            (settings.FINRA_TAF_PER_SHARE * qty).quantize(CENT, ROUND_CEILING),
            settings.FINRA_TAF_MAXIMUM,
        )
    return Charges(this_commission, sec_fee, finra_taf)
