import factory
from allauth.account.models import EmailAddress
from django.utils import timezone
from stdnum import luhn

from accounts.opening.models import Account, AccountHolder, AccountType
from accounts.users.models import User

PASSWORD = "correct-horse-battery"
# The authenticator app key of StaffFactory's logins (base32), for totp_code().
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str = TOTP_SECRET, step: int = 0) -> str:
    """The authenticator app's code now (or `step` periods later)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


def enable_totp(user, secret: str = TOTP_SECRET):
    from allauth.mfa.totp.internal.auth import TOTP

    return TOTP.activate(user, secret).instance


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Casey"
    last_name = "Customer"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        obj.save()
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class StaffFactory(UserFactory):
    """Staff with an authenticator app (the admin refuses staff without a second factor);
    `StaffFactory(two_factor=False)` for one without."""

    is_staff = True
    is_superuser = True

    @factory.post_generation
    def two_factor(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            enable_totp(obj)


class AccountFactory(factory.django.DjangoModelFactory):
    """An open account held by `holder` (a new customer unless given)."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    account_number = factory.Sequence(
        lambda n: f"RT{1_000_000 + n}{luhn.calc_check_digit(str(1_000_000 + n))}"
    )
    account_type = AccountType.INDIVIDUAL_CASH
    opened_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def holder(obj, create, extracted, **kwargs):
        if create:
            AccountHolder.objects.create(
                account=obj, user=extracted or UserFactory(), role=AccountHolder.Role.PRIMARY
            )


ROUTING = "021000021"


def fund(account, amount, user=None):
    """Link a bank (once) and complete a deposit of `amount`."""
    from accounts.money import funding

    user = user or account.holders.first()
    link = account.bank_links.filter(active=True).first() or funding.link_bank(
        account,
        user,
        routing_number=ROUTING,
        bank_account_number="000123456789",
        bank_account_type="checking",
    )
    transfer, _ = funding.request_transfer(
        account, user, direction="deposit", amount=amount, bank_link_id=link.pk
    )
    return funding.complete_transfer(transfer)


class SecurityFactory(factory.django.DjangoModelFactory):
    """A tradable NYSE equity; its reference price is derived from the symbol like the
    loader's (the simulated market walks around it)."""

    class Meta:
        model = "trading.Security"
        django_get_or_create = ("symbol",)

    symbol = factory.Sequence(lambda n: f"TST{n}")
    name = factory.LazyAttribute(lambda o: f"{o.symbol} Test Corp.")
    exchange = "NYSE"

    @factory.lazy_attribute
    def reference_price(self):
        from trading.market.securities import reference_price_for

        return reference_price_for(self.symbol)


def filled_order(account, side, qty, price, exec_id, executed_at=None, symbol="ACME"):
    """A limit order placed through order entry and filled at once by one ExecutionReport
    (as the routing engine reports it); returns the Execution."""
    from decimal import Decimal

    from trading.orders import entry
    from trading.orders.executions import ExecutionReport, apply_execution_report
    from trading.orders.models import Execution

    order, _ = entry.place_order(
        account,
        account.holders.get(),
        symbol=symbol,
        side=side,
        order_type="limit",
        limit_price=str(price),
        time_in_force="day",
        qty=qty,
    )
    apply_execution_report(
        ExecutionReport(
            exec_id=exec_id,
            cl_ord_id=order.cl_ord_id,
            exec_type="2",
            ord_status="2",
            last_qty=qty,
            last_px=Decimal(str(price)),
            cum_qty=qty,
            leaves_qty=0,
            transact_time=executed_at,
        )
    )
    return Execution.objects.get(exec_id=exec_id)
