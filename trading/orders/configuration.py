"""An account's trading configuration (Alpaca's account configurations): the settings
its owner sets, and the checks the order path makes with them."""

import logging

from django.db import transaction

from accounts.opening.models import Account
from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError
from trading.orders.models import AccountConfiguration

log = logging.getLogger(__name__)


def configuration(account: Account) -> AccountConfiguration:
    """The account's configuration: its row, or the defaults (not saved) when it has none."""
    found = AccountConfiguration.objects.filter(account=account).first()
    return found or AccountConfiguration(account=account)


@transaction.atomic
def update_configuration(account: Account, user: User | None, **changes) -> AccountConfiguration:
    """Set some of suspend_trade, trade_confirm_email, dtbp_check, pdt_check (already
    checked by the caller against their choices)."""
    allowed = {"suspend_trade", "trade_confirm_email", "dtbp_check", "pdt_check"}
    unknown = set(changes) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise ServiceError("invalid", f"{name} cannot be set", {name: FieldError("invalid", "")})
    config, _ = AccountConfiguration.objects.select_for_update().get_or_create(account=account)
    for name, value in changes.items():
        setattr(config, name, value)
    config.full_clean(exclude=["account"])
    config.save()
    if "suspend_trade" in changes:
        log.warning(
            "account %s: trading %s by user %s (suspend_trade)",
            account.account_number,
            "suspended" if config.suspend_trade else "resumed",
            getattr(user, "pk", None),
        )
    return config


def check_trading_allowed(account: Account) -> None:
    """Refuse a new order (or a replacement) while the owner has suspended trading."""
    if AccountConfiguration.objects.filter(account=account, suspend_trade=True).exists():
        log.warning("order refused: account %s has suspend_trade on", account.account_number)
        raise ServiceError(
            "trade_suspended",
            "Trading is suspended on this account by its owner (the account configuration "
            "suspend_trade); turn it off to place orders.",
            status=403,
        )
