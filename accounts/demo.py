"""Demo data for the embedded run: a staff user and a demo customer, both verified."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction

from .models import User


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


STAFF_EMAIL = "ops@rushtrade.test"
CUSTOMER_EMAIL = "demo@rushtrade.test"


@transaction.atomic
def ensure_demo_users(password: str) -> list[DemoLogin]:
    """Create (or reset the password of) the demo logins; safe to run at every start."""
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
    return logins
