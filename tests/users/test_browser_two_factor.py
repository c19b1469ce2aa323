"""In a real browser: set up an authenticator app from the security page, sign out, sign
in with password and code; a recovery code signs in too. No CSP violation on the way."""

import pytest

from tests.factories import PASSWORD, UserFactory, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def log_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def test_enrol_an_authenticator_app_then_sign_in_with_a_code(live_server, page, settings):
    settings.MFA_TOTP_TOLERANCE = 1  # the sign-in uses the next period's code
    violations = watch_csp(page)
    user = UserFactory()
    base = live_server.url
    log_in(page, base, user.email)
    page.wait_for_url(base + "/")

    page.goto(base + "/security/")
    assert "Only your password protects this login" in page.content()
    page.get_by_test_id("mfa-set-up").click()
    page.wait_for_url("**/accounts/2fa/")
    page.get_by_role("link", name="Activate").first.click()
    if "/reauthenticate/" in page.url:
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/2fa/totp/activate/**")
    page.screenshot(path="var/screens/totp-activate-1280.png", full_page=True)
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url("**/2fa/**")
    assert user.authenticator_set.filter(type="totp").exists()

    page.goto(base + "/security/")
    assert "authenticator app" in page.get_by_test_id("mfa-status").inner_text()
    page.screenshot(path="var/screens/security-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="var/screens/security-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/")

    log_in(page, base, user.email)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.screenshot(path="var/screens/mfa-authenticate-1280.png", full_page=True)
    page.get_by_label("Code").fill(totp_code(secret, step=1))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(base + "/")
    assert page.get_by_test_id("logged-in-email").inner_text() == user.email
    assert violations == []


def test_sign_in_with_a_recovery_code(live_server, page):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from tests.factories import enable_totp

    violations = watch_csp(page)
    user = UserFactory()
    enable_totp(user)
    code = RecoveryCodes.activate(user).get_unused_codes()[0]
    log_in(page, live_server.url, user.email)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_test_id("logged-in-email").inner_text() == user.email
    assert violations == []
