"""Security activity (issue 14, point 3): sign-ins and failures, two-factor changes,
tokens and keys, password and e-mail changes and bank links each write one append-only
line with the time, address and browser; the sensitive ones are e-mailed; the customer
sees their own on the security page, staff see all in admin."""

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.api_keys import keys
from accounts.money import funding
from accounts.users.models import SecurityEvent
from tests.factories import PASSWORD, AccountFactory, StaffFactory, UserFactory, enable_totp

pytestmark = pytest.mark.django_db

Kind = SecurityEvent.Kind
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"


def kinds(user) -> list[str]:
    return list(
        SecurityEvent.objects.filter(user=user).order_by("id").values_list("kind", flat=True)
    )


def sign_in(client, user, password=PASSWORD):
    return client.post(
        reverse("account_login"),
        {"login": user.email, "password": password},
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR="203.0.113.7",
    )


def test_sign_in_and_failed_sign_in_are_recorded_with_address_and_browser(client):
    user = UserFactory()
    sign_in(client, user, password="not-the-password")
    sign_in(client, user)
    failed, signed_in = SecurityEvent.objects.filter(user=user).order_by("id")
    assert (failed.kind, signed_in.kind) == (Kind.SIGN_IN_FAILED, Kind.SIGNED_IN)
    assert signed_in.ip_address == "203.0.113.7" and signed_in.user_agent == BROWSER
    assert not mail.outbox  # sign-ins are listed, not e-mailed
    client.post(reverse("account_login"), {"login": "nobody@example.com", "password": "x"})
    assert SecurityEvent.objects.count() == 2  # an unknown address has no activity


def test_a_wrong_two_factor_code_is_a_failed_sign_in(client):
    user = UserFactory()
    enable_totp(user)
    sign_in(client, user)
    client.post(reverse("mfa_authenticate"), {"code": "000000"})
    event = SecurityEvent.objects.get(user=user)
    assert (event.kind, event.detail) == (Kind.SIGN_IN_FAILED, "wrong two-factor code")


def test_password_change_is_recorded_and_emailed_with_the_tokens_revoked(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory()
    APIClient().post(
        "/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json"
    )
    sign_in(client, user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_change_password"),
            {"oldpassword": PASSWORD, "password1": "another-good-1", "password2": "another-good-1"},
            HTTP_USER_AGENT=BROWSER,
        )
    assert kinds(user) == [Kind.TOKEN_CREATED, Kind.SIGNED_IN, Kind.PASSWORD_CHANGED]
    change = SecurityEvent.objects.get(user=user, kind=Kind.PASSWORD_CHANGED)
    assert change.detail == "1 API token revoked" and change.emailed
    assert change.user_agent == BROWSER
    notices = [m for m in mail.outbox if "security notice" in m.subject]
    assert len(notices) == 1 and notices[0].to == [user.email]
    assert "Password changed" in notices[0].subject and "TestBrowser" in notices[0].body


def test_email_change_notice_goes_to_the_old_address_too(django_capture_on_commit_callbacks):
    from allauth.account.models import EmailAddress
    from allauth.account.signals import email_changed

    user = UserFactory(email="old@example.com")
    old = EmailAddress(user=user, email="old@example.com")
    new = EmailAddress(user=user, email="new@example.com")
    user.email = "new@example.com"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        email_changed.send(
            sender=type(user), request=None, user=user, from_email_address=old, to_email_address=new
        )
    event = SecurityEvent.objects.get(user=user, kind=Kind.EMAIL_CHANGED)
    assert event.detail == "old@example.com → new@example.com"
    (notice,) = mail.outbox
    assert notice.to == ["new@example.com", "old@example.com"]


def test_api_keys_tokens_and_bank_links_are_recorded(django_capture_on_commit_callbacks):
    account = AccountFactory()
    user = account.holders.get()
    with django_capture_on_commit_callbacks(execute=True):
        key, _ = keys.create_api_key(account, user, "my bot")
    keys.revoke_api_key(key, user)
    keys.revoke_api_key(key, user)  # twice: one line
    with django_capture_on_commit_callbacks(execute=True):
        link = funding.link_bank(
            account,
            user,
            routing_number="011000015",
            bank_account_number="123456789",
            bank_account_type="checking",
        )
    funding.remove_bank_link(link, user)
    assert kinds(user) == [
        Kind.API_KEY_CREATED,
        Kind.API_KEY_REVOKED,
        Kind.BANK_LINKED,
        Kind.BANK_UNLINKED,
    ]
    assert SecurityEvent.objects.get(kind=Kind.BANK_LINKED).detail.endswith("••6789")
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "RushTrade security notice: Bank account linked",
        "RushTrade security notice: Trading API key created",
    ]


def test_staff_revoking_a_key_shows_on_the_holders_activity():
    account = AccountFactory()
    holder = account.holders.get()
    key, _ = keys.create_api_key(account, holder)
    keys.revoke_api_key(key, StaffFactory())
    assert kinds(holder) == [Kind.API_KEY_CREATED, Kind.API_KEY_REVOKED]


def test_each_customer_sees_only_their_own_activity(client):
    mine, theirs = UserFactory(), UserFactory()
    sign_in(client, theirs, password="wrong-password")
    client.force_login(mine)
    page = client.get(reverse("security")).content.decode()
    assert page.count('data-testid="security-event"') == 1  # the force_login sign-in
    assert "Sign-in failed" not in page


def test_invisible_characters_refused_in_names():
    account = AccountFactory()
    user = account.holders.get()
    response = APIClient().post(
        "/api/v1/auth/token",
        {"email": user.email, "password": PASSWORD, "name": "bot\u202egnp.exe"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["name"]["code"] == "invalid_characters"
    with pytest.raises(keys.ServiceError) as exc:
        keys.create_api_key(account, user, "zero\u200bwidth")
    assert exc.value.fields["name"].code == "invalid_characters"
    with pytest.raises(funding.ServiceError) as exc:
        funding.link_bank(
            account,
            user,
            routing_number="011000015",
            bank_account_number="123456789",
            bank_account_type="checking",
            nickname="Pay\u200dme",
        )
    assert exc.value.fields["nickname"].code == "invalid_characters"
    assert not SecurityEvent.objects.exclude(kind=Kind.SIGNED_IN).exists()


def test_staff_read_the_activity_in_admin_and_cannot_change_it(client):
    user = UserFactory()
    keys.create_api_key(AccountFactory(holder=user), user)
    event = SecurityEvent.objects.get(user=user)
    client.force_login(StaffFactory())
    admin_client = client
    listing = admin_client.get(
        reverse("admin:accounts_securityevent_changelist") + f"?user__id__exact={user.pk}"
    )
    assert listing.status_code == 200 and "Trading API key created" in listing.content.decode()
    change = admin_client.post(
        reverse("admin:accounts_securityevent_change", args=[event.pk]), {"detail": "x"}
    )
    assert change.status_code == 403
    event.refresh_from_db()
    assert event.detail != "x"
    user_page = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert "1 events" in user_page.content.decode()


def test_a_notice_that_cannot_be_sent_is_not_marked_emailed(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from accounts.users import activity

    def down(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(activity, "send_mail", down)
    account = AccountFactory()
    user = account.holders.get()
    with django_capture_on_commit_callbacks(execute=True):
        keys.create_api_key(account, user, "bot")  # the change is made all the same
    event = SecurityEvent.objects.get(user=user, kind=Kind.API_KEY_CREATED)
    assert not event.emailed
    assert "not sent" in caplog.text
