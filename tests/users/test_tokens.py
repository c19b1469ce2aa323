"""API tokens end: they expire, are listed and revoked by the customer, are stored hashed,
and all end on a password change or reset and on "sign out everywhere"."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import keys
from accounts.users.models import ApiToken
from tests.factories import PASSWORD, AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def issue(api, user, **extra):
    response = api.post(
        "/api/v1/auth/token", {"email": user.email, "password": PASSWORD, **extra}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def with_token(token):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_token_is_named_expiring_and_stored_hashed(settings):
    user = UserFactory()
    body = issue(APIClient(), user, name="laptop script")
    assert body["name"] == "laptop script"
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    lifetime = expires - timezone.now()
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)

    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.key_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in {stored.key_hash, stored.key_prefix, stored.name}
    assert body["token"].startswith(stored.key_prefix)


def test_shorter_lifetime_may_be_asked_and_longer_is_refused(settings):
    user = UserFactory()
    body = issue(APIClient(), user, expires_in_days=2)
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert expires - timezone.now() <= timedelta(days=2)

    response = APIClient().post(
        "/api/v1/auth/token",
        {"email": user.email, "password": PASSWORD, "expires_in_days": 31},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["expires_in_days"]["code"] == "max_value"


def test_expired_token_is_refused(settings):
    token = issue(APIClient(), UserFactory())
    api = with_token(token["token"])
    assert api.get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=token["id"]).update(expires_at=timezone.now())
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_list_and_revoke_through_the_api():
    user = UserFactory()
    first, second = issue(APIClient(), user, name="one"), issue(APIClient(), user, name="two")
    api = with_token(first["token"])
    listed = api.get("/api/v1/auth/tokens").json()
    assert {t["name"] for t in listed} == {"one", "two"}
    assert all("token" not in t for t in listed)

    assert api.delete(f"/api/v1/auth/tokens/{second['id']}").status_code == 204
    assert with_token(second["token"]).get("/api/v1/me").status_code == 401

    # DELETE /auth/token revokes the token the request is made with.
    assert api.delete("/api/v1/auth/token").status_code == 204
    assert api.get("/api/v1/me").status_code == 401


def test_another_users_token_cannot_be_revoked():
    mine = issue(APIClient(), UserFactory())
    theirs = issue(APIClient(), UserFactory())
    response = with_token(mine["token"]).delete(f"/api/v1/auth/tokens/{theirs['id']}")
    assert response.status_code == 404
    assert with_token(theirs["token"]).get("/api/v1/me").status_code == 200


def test_delete_without_a_token_says_so(client):
    user = UserFactory()
    api = APIClient()
    api.force_authenticate(user)
    response = api.delete("/api/v1/auth/token")
    assert response.status_code == 400
    assert response.json()["code"] == "not_token_authenticated"


def test_password_change_revokes_every_token(client):
    user = UserFactory()
    tokens = [issue(APIClient(), user)["token"] for _ in range(2)]
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-good-secret",
            "password2": "another-good-secret",
        },
    )
    for token in tokens:
        assert with_token(token).get("/api/v1/me").status_code == 401
    assert set(ApiToken.objects.values_list("revoked_reason", flat=True)) == {"password_changed"}


def test_password_reset_revokes_every_token(client):
    user = UserFactory()
    token = issue(APIClient(), user)["token"]
    client.post(reverse("account_reset_password"), {"email": user.email})
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body)
    path = link.group(0).split("testserver", 1)[-1]
    response = client.get(path, follow=True)
    form_path = response.redirect_chain[-1][0] if response.redirect_chain else path
    client.post(form_path, {"password1": "brand-new-secret-1", "password2": "brand-new-secret-1"})
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-1")
    assert with_token(token).get("/api/v1/me").status_code == 401


def test_last_login_save_keeps_tokens(client):
    user = UserFactory()
    token = issue(APIClient(), user)["token"]
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert with_token(token).get("/api/v1/me").status_code == 200


def test_security_page_lists_and_revokes_tokens_and_keys(client):
    user = UserFactory()
    account = AccountFactory(holder=user)
    token = issue(APIClient(), user, name="my bot")
    key, _secret = keys.create_api_key(account, user, "algo")
    other_key, _ = keys.create_api_key(AccountFactory(), None, "not mine")

    client.force_login(user)
    page = client.get(reverse("security")).content.decode()
    assert "my bot" in page and key.key_id in page and other_key.key_id not in page
    assert "never" in page  # neither has been used

    client.post(reverse("security-token-revoke", args=[token["id"]]))
    assert with_token(token["token"]).get("/api/v1/me").status_code == 401
    client.post(reverse("security-key-revoke", args=[key.key_id]))
    key.refresh_from_db()
    assert not key.is_active
    assert client.post(reverse("security-key-revoke", args=[other_key.key_id])).status_code == 404


def test_api_key_last_use_is_recorded():
    user = UserFactory()
    account = AccountFactory(holder=user)
    key, secret = keys.create_api_key(account, user)
    assert key.last_used_at is None
    api = APIClient()
    api.credentials(HTTP_APCA_API_KEY_ID=key.key_id, HTTP_APCA_API_SECRET_KEY=secret)
    assert api.get("/v2/account").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_sign_out_everywhere_ends_sessions_and_tokens(client):
    from django.test import Client

    user = UserFactory()
    token = issue(APIClient(), user)["token"]
    other_device = Client()
    other_device.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert other_device.get(reverse("security")).status_code == 200

    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    response = client.post(reverse("sign-out-everywhere"))
    assert response.status_code == 302

    assert other_device.get(reverse("security")).status_code == 302  # to the login page
    assert client.get(reverse("security")).status_code == 302
    assert with_token(token).get("/api/v1/me").status_code == 401
    # The password still works: a new sign-in is possible.
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert client.get(reverse("security")).status_code == 200


def test_too_many_tokens_refused(monkeypatch):
    from accounts.users import tokens

    monkeypatch.setattr(tokens, "MAX_ACTIVE_TOKENS", 2)
    user = UserFactory()
    issue(APIClient(), user)
    issue(APIClient(), user)
    response = APIClient().post(
        "/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "too_many_tokens"
