"""GET/PATCH /v2/account/configurations: Alpaca's account configurations.

What each setting does here:
- `suspend_trade`: enforced. While true, every new order and replacement of the account
  is refused (403, whatever the channel: API or web ticket); cancels still work.
- `trade_confirm_email`: enforced. `all` e-mails the owner once per fill
  (trading/orders/fill_emails.py), `none` sends none; the trade confirmation stays a
  document on the account's documents page (SEC Rule 10b-10) either way.
- `dtbp_check`, `pdt_check`: stored (`both`, `entry` or `exit`). Buying power here is
  Reg T (overnight) buying power, never the day-trading multiple, so an order that
  passes it cannot create a day-trading margin call: every value acts as `both`.
- `no_shorting`: always true (short sales are not offered); false is refused (422).
- `fractional_trading`: always false (whole shares only); true is refused (422).
- `max_margin_multiplier`: the account type's ("1" cash, "2" margin); another is refused.
- `ptp_no_exception_entry` false and `max_options_trading_level` 0 (not offered).
A setting sent as null is left as it is (alpaca-py sends its whole model back).
"""

from accounts.opening.models import Account, AccountType
from accounts.users.models import User
from trading.alpaca import errors
from trading.orders import configuration
from trading.orders.models import AccountConfiguration

CHECKS = tuple(AccountConfiguration.Check.values)
CONFIRM = tuple(AccountConfiguration.ConfirmEmail.values)


def _multiplier(account: Account) -> str:
    return "2" if account.account_type == AccountType.INDIVIDUAL_MARGIN else "1"


def configurations_dict(account: Account) -> dict:
    config = configuration.configuration(account)
    return {
        "dtbp_check": config.dtbp_check,
        "trade_confirm_email": config.trade_confirm_email,
        "suspend_trade": config.suspend_trade,
        "no_shorting": True,
        "fractional_trading": False,
        "max_margin_multiplier": _multiplier(account),
        "pdt_check": config.pdt_check,
        "ptp_no_exception_entry": False,
        "max_options_trading_level": 0,
    }


def _fixed(name: str, value, allowed, message: str) -> None:
    if value != allowed and str(value).lower() != str(allowed).lower():
        raise errors.AlpacaError(422, errors.UNPROCESSABLE, message)


def update(account: Account, user: User | None, data) -> dict:
    """PATCH: change the settings named in `data`; the others stay as they are."""
    if not isinstance(data, dict):
        raise errors.AlpacaError(400, errors.MALFORMED, "request body format is invalid")
    known = set(configurations_dict(account))
    unknown = sorted(set(data) - known)
    # A client that sends its whole configuration back (alpaca-py does) sends null for
    # what it does not know: null changes nothing.
    data = {name: value for name, value in data.items() if value is not None}
    if unknown:
        raise errors.invalid(f"unknown configuration: {', '.join(unknown)[:200]}", status=400)
    changes = {}
    for name in ("dtbp_check", "pdt_check"):
        if name in data:
            if data[name] not in CHECKS:
                raise errors.invalid(f"{name} must be one of {', '.join(CHECKS)}", status=400)
            changes[name] = data[name]
    if "trade_confirm_email" in data:
        if data["trade_confirm_email"] not in CONFIRM:
            raise errors.invalid("trade_confirm_email must be all or none", status=400)
        changes["trade_confirm_email"] = data["trade_confirm_email"]
    if "suspend_trade" in data:
        if not isinstance(data["suspend_trade"], bool):
            raise errors.invalid("suspend_trade must be true or false", status=400)
        changes["suspend_trade"] = data["suspend_trade"]
    for name in ("no_shorting", "fractional_trading", "ptp_no_exception_entry"):
        if name in data and not isinstance(data[name], bool):
            raise errors.invalid(f"{name} must be true or false", status=400)
    if "no_shorting" in data:
        _fixed("no_shorting", data["no_shorting"], True, "short sales are not offered")
    if "fractional_trading" in data:
        _fixed(
            "fractional_trading",
            data["fractional_trading"],
            False,
            "fractional trading is not offered",
        )
    if "ptp_no_exception_entry" in data:
        _fixed(
            "ptp_no_exception_entry",
            data["ptp_no_exception_entry"],
            False,
            "publicly traded partnerships without the withholding exception are not offered",
        )
    if "max_options_trading_level" in data:
        level = data["max_options_trading_level"]
        if isinstance(level, bool) or not isinstance(level, int):
            raise errors.invalid("max_options_trading_level must be a whole number", status=400)
        _fixed("max_options_trading_level", level, 0, "options trading is not offered")
    if "max_margin_multiplier" in data:
        _fixed(
            "max_margin_multiplier",
            str(data["max_margin_multiplier"]),
            _multiplier(account),
            f"max_margin_multiplier is {_multiplier(account)} for this account's type",
        )
    if changes:
        configuration.update_configuration(account, user, **changes)
    return configurations_dict(account)
