"""Demo data for the embedded run: a staff user and a demo customer, both verified; the
customer's account has two years behind it (trading/simulation/history.py)."""

from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.money import funding
from accounts.opening import onboarding
from accounts.opening.models import ApplicationStatus
from accounts.users.models import User
from trading.simulation.history import give_demo_history


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


STAFF_EMAIL = "ops@rushtrade.test"
CUSTOMER_EMAIL = "demo@rushtrade.test"


@transaction.atomic
def ensure_demo_users(password: str, history: bool = True) -> list[DemoLogin]:
    """Create (or reset the password of) the demo logins; safe to run at every start.
    With `history`, a new demo customer's account is two years old at first login."""
    logins = []
    for role, email, names, staff in (
        ("staff", STAFF_EMAIL, ("Olivia", "Operations"), True),
        ("customer", CUSTOMER_EMAIL, ("Dana", "Demo"), False),
    ):
        user, _ = User.objects.get_or_create(
            email=email,
            defaults={
                "first_name": names[0],
                "last_name": names[1],
                "is_staff": staff,
                "is_superuser": staff,
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        logins.append(DemoLogin(role, email, password))
        if not staff:
            ensure_demo_account(user, history=history)
    return logins


DEMO_APPLICATION = {
    "account_type": "individual_cash",
    "date_of_birth": date(1985, 6, 15),
    "citizenship": "US",
    "tax_residence": "US",
    "phone": "+15128675309",
    "street_address": "1100 Congress Ave",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
    "tax_id_type": "ssn",
    "tax_id": "401-22-3344",
    "employment_status": "employed",
    "employer": "Demo Corp",
    "occupation": "Analyst",
    "annual_income": "100000-250000",
    "net_worth": "250000-1000000",
    "liquid_net_worth": "100000-250000",
    "investment_objective": "growth",
    "investment_experience": "good",
    "risk_tolerance": "medium",
    "is_control_person": False,
    "is_affiliated_with_broker": False,
    "is_politically_exposed": False,
    "trusted_contact_declined": True,
    "tax_certification_signature": "Dana Demo",
}


def ensure_demo_account(user: User, history: bool = True) -> None:
    """The demo customer has an open individual cash account from an approved application
    and a linked bank; with `history`, made when the account is new: two years of
    deposits, trades and daily values; without: one settled deposit."""
    account = user.accounts.first()
    new = account is None
    if new:
        account = _open_demo_account(user)
    link = account.bank_links.filter(active=True).first() or funding.link_bank(
        account,
        user,
        routing_number="021000021",
        bank_account_number="000123456789",
        bank_account_type="checking",
        nickname="Demo checking",
    )
    if history and new:
        give_demo_history(account, link, user)
        return
    if account.transfers.filter(client_transfer_id__startswith="demo-history").exists():
        return  # it has its two years
    transfer, _created = funding.request_transfer(
        account,
        user,
        direction="deposit",
        amount="25000.00",
        bank_link_id=link.pk,
        client_transfer_id="demo-initial-deposit",
    )
    if transfer.status in ("requested", "pending"):
        funding.complete_transfer(transfer)


def _open_demo_account(user: User):
    application = onboarding.start_application(
        user,
        DEMO_APPLICATION,
        agreements=onboarding.AGREEMENT_VERSIONS.keys() - {"margin_agreement"},
    )
    application = onboarding.submit_application(application, user)
    if application.status != ApplicationStatus.APPROVED:
        onboarding.approve_application(application, None, note="demo data")
    return user.accounts.get()
