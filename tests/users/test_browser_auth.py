"""In a real browser: sign up, verify the e-mail, log in, log out."""

import re

import pytest
from django.core import mail

from accounts.users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signup_verify_login_logout(live_server, page):
    email, password = "browser.user@example.com", "a-Strong-passphrase-42"
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Open an account").first.click()

    page.get_by_label("Email").fill(email)
    page.locator("#id_password1").fill(password)
    page.get_by_label("Password (again)").fill(password)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    assert "Verify Your Email Address" in page.content()
    assert User.objects.filter(email=email).exists()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    page.goto(live_server.url + "/accounts/confirm-email/" + link.rsplit("/confirm-email/", 1)[1])
    page.get_by_role("button", name="Confirm").click()
    # Confirming the address from the browser that signed up logs in: no second log-in.
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_test_id("logged-in-email").inner_text() == email

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("navigation").get_by_role("link", name="Log in").is_visible()
    assert page.get_by_test_id("logged-in-email").count() == 0

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_test_id("logged-in-email").inner_text() == email


def test_wrong_password_in_browser_shows_error(live_server, page):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("nobody@example.com")
    page.locator("#id_password").fill("not-the-password")
    page.get_by_role("button", name="Sign In").click()
    assert "not correct" in page.content()
