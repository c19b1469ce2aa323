"""Users: e-mail login, sign-up with verification, throttled logins, admin for staff only."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.users.models import User
from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_signup_sends_verification_and_blocks_login_until_verified(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "New.Person@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email__iexact="new.person@example.com")
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)

    client.logout()
    response = login(client, "new.person@example.com", PASSWORD)
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session

    path = link.split("testserver", 1)[-1]
    assert client.get(path).status_code == 200
    client.post(path)
    assert user.emailaddress_set.get().verified

    response = login(client, "NEW.person@example.com", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_email_is_unique_regardless_of_case(client):
    UserFactory(email="taken@example.com")
    client.post(
        reverse("account_signup"),
        {"email": "TAKEN@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_weak_password_refused_with_field_error(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "weak@example.com", "password1": "password", "password2": "password"},
    )
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert not User.objects.filter(email="weak@example.com").exists()


def test_wrong_password_throttled_after_repeated_failures(client, settings):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = login(client, user.email, "wrong-password-123")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    response = login(client, user.email, "wrong-password-123")
    assert response.status_code == 429
    # Locked out: even the right password is refused now.
    response = login(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()
    assert response["Retry-After"] == str(round(settings.AXES_COOLOFF_TIME * 60) * 60)
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_login_not_global(client, settings):
    victim, other = UserFactory(), UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, victim.email, "wrong-password-123")
    response = login(client, other.email, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_password_change_and_reset(client):
    user = UserFactory()
    login(client, user.email, PASSWORD)  # a fresh sign-in is the step-up a change needs
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-good-secret",
            "password2": "another-good-secret",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-good-secret")

    client.logout()
    mail.outbox.clear()
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "password" in mail.outbox[0].subject.lower()


def test_logout(client):
    client.force_login(UserFactory())
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_admin_reachable_by_staff_only(client):
    anonymous = client.get("/admin/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]

    client.force_login(UserFactory())
    customer = client.get("/admin/")
    assert customer.status_code == 302 and "/admin/login/" in customer["Location"]

    client.force_login(StaffFactory())
    staff = client.get("/admin/")
    assert staff.status_code == 200
    assert "RushTrade operations" in staff.content.decode()
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200
    assert client.get("/admin/accounts/user/add/").status_code == 200


def test_admin_login_is_the_throttled_sign_in(client, settings):
    """The admin's own login form is not used (it would skip two-factor sign-in): it sends
    to the portal's sign-in, which is throttled."""
    staff = StaffFactory()
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, staff.email, "nope-nope-nope")
    assert login(client, staff.email, PASSWORD).status_code == 429


def test_seed_demo_creates_verified_staff_and_customer(settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="embedded run"):
        call_command("seed_demo", password="demo-password-for-test")
    assert not User.objects.exists()

    settings.DEBUG = True

    call_command("seed_demo", password="demo-password-for-test")
    from accounts.money import ledger

    cash = ledger.balances(User.objects.get(email="demo@rushtrade.test").accounts.get()).cash
    call_command("seed_demo", password="demo-password-for-test")  # idempotent
    staff = User.objects.get(email="ops@rushtrade.test")
    customer = User.objects.get(email="demo@rushtrade.test")
    assert staff.is_staff and not customer.is_staff
    assert customer.check_password("demo-password-for-test")
    assert customer.emailaddress_set.get().verified
    account = customer.accounts.get()
    assert account.status == "active" and account.account_type == "individual_cash"
    assert ledger.balances(account).cash == cash  # its history made once, not twice
    assert account.orders.count() > 20
    assert not staff.accounts.exists()
