"""Money amounts as customers and staff type them."""

from decimal import Decimal, InvalidOperation

from django.conf import settings

from rushtrade.errors import FieldError, ServiceError


def _invalid(field: str, code: str, message: str) -> ServiceError:
    return ServiceError(code, message, {field: FieldError(code, message)})


def clean_amount(value, *, allow_negative: bool = False, field: str = "amount") -> Decimal:
    """A money amount in dollars and cents, from text or a number."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip().replace(",", "").lstrip("$"))
    except (InvalidOperation, ValueError):
        raise _invalid(
            field, "invalid_amount", "Enter an amount in dollars, e.g. 250.00."
        ) from None
    if not amount.is_finite():
        raise _invalid(field, "invalid_amount", "Enter an amount in dollars, e.g. 250.00.")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise _invalid(field, "too_many_decimals", "Amounts have at most two decimals (cents).")
    if amount == 0 or (amount < 0 and not allow_negative):
        raise _invalid(field, "amount_not_positive", "The amount must be more than $0.00.")
    if abs(amount) > settings.MAX_TRANSFER_AMOUNT:
        raise _invalid(
            field,
            "amount_too_large",
            f"The most a single transfer can be is ${settings.MAX_TRANSFER_AMOUNT:,}.",
        )
    return amount.quantize(Decimal("0.01"))
