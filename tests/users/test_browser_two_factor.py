"""In a real browser: set up an authenticator app from the security page, sign out, sign
in with password and code; a recovery code signs in too; add a passkey (Chromium's
virtual authenticator, through the DevTools Protocol), sign out, sign in with password
and passkey. No CSP violation on the way. (Passkey sign-in without a password is off:
MFA_PASSKEY_LOGIN_ENABLED.)"""

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


def add_virtual_authenticator(page) -> tuple[object, str]:
    """A platform authenticator in this tab (Chrome DevTools Protocol's WebAuthn domain):
    CTAP2 over an internal transport, with resident keys and user verification, that
    answers every request at once as if the customer had touched it."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, found["authenticatorId"]


def test_enrol_a_passkey_then_sign_in_with_it(live_server, page, settings):
    """On the MFA page a customer adds a passkey (the browser's WebAuthn call answered by
    a virtual authenticator), signs out, and signs in with password and passkey."""
    from allauth.mfa.models import Authenticator

    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # the test server is http://localhost
    violations = watch_csp(page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    cdp, authenticator_id = add_virtual_authenticator(page)
    user = UserFactory()
    base = live_server.url
    log_in(page, base, user.email)
    page.wait_for_url(base + "/")

    page.goto(base + "/security/")
    page.get_by_test_id("mfa-set-up").click()
    page.wait_for_url("**/accounts/2fa/")
    page.get_by_role("link", name="Add").click()
    if "/reauthenticate/" in page.url:
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/2fa/webauthn/add/**")
    page.get_by_label("Name").fill("Laptop")
    page.locator("#mfa_webauthn_add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    passkey = Authenticator.objects.get(user=user, type=Authenticator.Type.WEBAUTHN)
    assert passkey.wrap().name == "Laptop"
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1  # the key lives in the authenticator

    page.goto(base + "/security/")
    assert "passkey “Laptop”" in page.get_by_test_id("mfa-status").inner_text()
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/")

    log_in(page, base, user.email)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("#mfa_webauthn_authenticate").click()
    page.wait_for_url(base + "/")
    assert page.get_by_test_id("logged-in-email").inner_text() == user.email
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert credentials["credentials"][0]["signCount"] >= 1  # it signed the sign-in
    assert violations == [] and errors == []
