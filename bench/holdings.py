"""Shared by the benchmarks: an account holding `n` positions (one share lot per
security, made directly, not traded), in the database the script has set up."""

from decimal import Decimal

from django.utils import timezone


def account_with_positions(n: int, account_number: str, symbol_prefix: str, deposit=None):
    """A customer, their cash account `account_number` (funded with `deposit` if given)
    and `n` positions in new securities `<symbol_prefix>0000`...; returns (account, user)."""
    from accounts.opening.models import Account, AccountHolder
    from accounts.users.models import User
    from tests.factories import fund
    from trading.market.models import Security
    from trading.orders.models import Position

    user = User.objects.create_user(f"bench-{account_number}@example.com", "bench-password-123")
    account = Account.objects.create(
        account_number=account_number, account_type="individual_cash", opened_at=timezone.now()
    )
    AccountHolder.objects.create(account=account, user=user)
    if deposit:
        fund(account, Decimal(deposit), user)
    securities = Security.objects.bulk_create(
        Security(
            symbol=f"{symbol_prefix}{i:04d}",
            name=f"Bench {i}",
            exchange="NYSE",
            reference_price=Decimal(10 + i % 300),
        )
        for i in range(n)
    )
    Position.objects.bulk_create(
        Position(account=account, security=s, qty=10 + i, avg_cost=s.reference_price)
        for i, s in enumerate(securities)
    )
    return account, user
