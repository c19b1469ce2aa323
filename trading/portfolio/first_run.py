"""The first-run guide of an account that has not traded yet: fund it, then place an order."""

from dataclasses import dataclass
from decimal import Decimal

from accounts.money.models import Transfer, TransferDirection, TransferStatus
from accounts.opening.models import Account


@dataclass(frozen=True)
class FirstRun:
    has_bank: bool
    deposit_on_its_way: Decimal  # requested or pending deposits
    funded: bool  # cash or buying power to trade with

    @property
    def step(self) -> int:
        """1: fund the account; 2: place an order."""
        return 2 if self.funded else 1


def first_run(account: Account, buying_power: Decimal, cash: Decimal) -> FirstRun | None:
    """The guide while the account has never had an order (None after the first one)."""
    if account.orders.exists():
        return None
    on_its_way = sum(
        (
            t.amount
            for t in Transfer.objects.filter(
                account=account,
                direction=TransferDirection.DEPOSIT,
                status__in=(TransferStatus.REQUESTED, TransferStatus.PENDING),
            )
        ),
        Decimal("0"),
    )
    return FirstRun(
        has_bank=account.bank_links.filter(active=True).exists(),
        deposit_on_its_way=on_its_way,
        funded=buying_power > 0 or cash > 0,
    )
