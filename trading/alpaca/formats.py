"""How the Alpaca API writes values: decimals as strings without trailing zeros, ids
as UUIDs, times in RFC 3339."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from accounts.opening.models import Account
from trading.market.models import Security

ACCOUNT_NAMESPACE = uuid.UUID("6f1d1c52-4a0e-4b55-9a43-2f6a3e1d7c10")
EXCHANGES = {"AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC"}


def text(value) -> str | None:
    """A decimal as Alpaca writes it: "100.5", "10", "0"; None stays None."""
    if value is None:
        return None
    value = Decimal(value)
    if value == 0:
        return "0"
    out = f"{value:f}"
    return out.rstrip("0").rstrip(".") if "." in out else out


def account_id(account: Account) -> str:
    """The account's id in the API: a UUID derived from its number (stable, and nothing
    to store)."""
    return str(uuid.uuid5(ACCOUNT_NAMESPACE, account.account_number))


def exchange(security: Security) -> str:
    return security.exchange if security.exchange in EXCHANGES else "OTC"


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# Dates a request may name: wide enough for any real history or plan, narrow enough that
# a day or two either side stays a valid date (year 1 or 9999 overflowed before).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def date_in_range(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def range_message(name: str) -> str:
    return f"{name} must be between {EARLIEST_DATE} and {LATEST_DATE}"
