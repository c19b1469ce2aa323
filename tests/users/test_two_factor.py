"""Two-factor sign-in: codes at sign-in, throttled like passwords; staff need a second
factor for the admin; step-up before new API keys, withdrawals to a new bank, e-mail and
password changes."""

import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys.models import ApiKey
from accounts.money.models import BankLink, Transfer
from tests.factories import (
    PASSWORD,
    AccountFactory,
    StaffFactory,
    UserFactory,
    enable_totp,
    fund,
    totp_code,
)

pytestmark = pytest.mark.django_db


def sign_in(client, user, code=None):
    """Password, then (2FA on) the code; returns the last response."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    if code is not None:
        assert response["Location"] == reverse("mfa_authenticate")
        response = client.post(reverse("mfa_authenticate"), {"code": code})
    return response


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sign_in_asks_for_the_code_when_two_factor_is_on(client):
    user = UserFactory()
    enable_totp(user)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert not signed_in(client)
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200 and not signed_in(client)
    right = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert right.status_code == 302 and signed_in(client)


def test_a_recovery_code_signs_in_once(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    user = UserFactory()
    enable_totp(user)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    sign_in(client, user, code=codes[0])
    assert signed_in(client)
    client.logout()
    sign_in(client, user, code=codes[0])
    assert not signed_in(client)


def test_codes_are_throttled_like_passwords(client, settings, caplog):
    user = UserFactory()
    enable_totp(user)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("mfa_authenticate"), {"code": "000000"})
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert not signed_in(client)
    assert "Too many failed login attempts" in response.content.decode()


def test_token_endpoint_needs_the_code_when_two_factor_is_on():
    user = UserFactory()
    enable_totp(user)
    api = APIClient()
    body = {"email": user.email, "password": PASSWORD}
    response = api.post("/api/v1/auth/token", body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"
    assert response.json()["fields"]["code"]["code"] == "required"
    response = api.post("/api/v1/auth/token", {**body, "code": "000000"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "mfa_invalid"
    response = api.post("/api/v1/auth/token", {**body, "code": totp_code()}, format="json")
    assert response.status_code == 200 and response.json()["token"]


# --- Staff ---------------------------------------------------------------------------------


def test_admin_refuses_staff_without_a_second_factor(client, caplog):
    staff = StaffFactory(two_factor=False)
    client.force_login(staff)
    with caplog.at_level(logging.WARNING):
        response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_index")
    assert "Staff must use two-factor sign-in" in response.content.decode()
    assert any("no second factor" in r.getMessage() for r in caplog.records)
    assert client.get("/admin/accounts/user/").status_code == 302

    enable_totp(staff)
    assert client.get("/admin/").status_code == 200


def test_admin_login_goes_through_two_factor_sign_in(client):
    staff = StaffFactory()
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    sign_in(client, staff, code=totp_code())
    assert client.get("/admin/accounts/user/").status_code == 200


def test_staff_cannot_remove_their_last_second_factor(client):
    from allauth.mfa.models import Authenticator

    from accounts.users.sign_in import MFAAdapter

    staff = StaffFactory()
    [totp] = Authenticator.objects.filter(user=staff, type="totp")
    assert not MFAAdapter().can_delete_authenticator(totp)
    customer = UserFactory()
    assert MFAAdapter().can_delete_authenticator(enable_totp(customer))


# --- Step-up -------------------------------------------------------------------------------


def test_new_api_key_needs_a_recent_code(client, settings):
    settings.MFA_TOTP_TOLERANCE = 1  # the step-up uses the next period's code
    user = UserFactory()
    enable_totp(user)
    account = AccountFactory(holder=user)
    sign_in(client, user, code=totp_code())
    url = reverse("account-api-keys", args=[account.account_number])
    assert client.post(url, {"name": "fresh"}).status_code == 200  # signed in just now
    assert ApiKey.objects.count() == 1

    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0  # the sign-in is no longer recent
    response = client.post(url, {"name": "later"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert ApiKey.objects.count() == 1
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
    resumed = client.post(response["Location"], {"code": totp_code(step=1)})
    # allauth replays the kept POST: the key is made.
    assert resumed.status_code in (200, 302)
    assert ApiKey.objects.filter(name="later").exists()


def test_without_two_factor_the_step_up_is_the_password(client):
    user = UserFactory()
    account = AccountFactory(holder=user)
    client.force_login(user)  # no sign-in recorded in this session
    url = reverse("account-api-keys", args=[account.account_number])
    response = client.post(url, {"name": "k"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(response["Location"], {"password": PASSWORD})
    assert ApiKey.objects.filter(name="k").exists()


def test_withdrawal_to_a_new_bank_needs_a_step_up_an_old_one_does_not(client):
    user = UserFactory()
    enable_totp(user)
    account = AccountFactory(holder=user)
    fund(account, "500.00", user)
    link = BankLink.objects.get(account=account)
    client.force_login(user)
    url = reverse("account-transfer-new", args=[account.account_number])
    data = {
        "direction": "withdrawal",
        "amount": "100.00",
        "bank_link": link.pk,
        "client_transfer_id": "w1",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not Transfer.objects.filter(direction="withdrawal").exists()

    BankLink.objects.filter(pk=link.pk).update(created_at=timezone.now() - timedelta(days=8))
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("account-transfers", args=[account.account_number])
    assert Transfer.objects.filter(direction="withdrawal").count() == 1


def test_api_withdrawal_to_a_new_bank_refused_for_two_factor_logins():
    user = UserFactory()
    enable_totp(user)
    account = AccountFactory(holder=user)
    fund(account, "500.00", user)
    link = BankLink.objects.get(account=account)
    api = APIClient()
    api.force_authenticate(user)
    response = api.post(
        f"/api/v1/accounts/{account.account_number}/transfers",
        {"direction": "withdrawal", "amount": "10", "bank_link": link.pk},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "step_up_required"
    assert response.json()["fields"]["bank_link"]["code"] == "step_up_required"


def test_password_and_email_changes_need_a_step_up(client, settings):
    user = UserFactory()
    enable_totp(user)
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-good-secret",
            "password2": "another-good-secret",
        },
    )
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "new@example.com"})
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert client.get(reverse("account_change_password")).status_code == 200  # the form shows
