"""The security page's recent activity in a real browser at a desktop's and a phone's
width: a failed sign-in and the sign-in after it are listed with their address and
browser, and the page is no wider than the window (issue 14, point 3)."""

import os
from pathlib import Path

import pytest

from tests.browser.test_wizard_walk import WIDTHS
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", list(WIDTHS))
def test_recent_security_activity_on_the_security_page(live_server, browser, tmp_path, size):
    width, height = WIDTHS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    user = UserFactory()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.locator("#id_password").fill("not-the-password")
    page.get_by_role("button", name="Sign In").click()
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/security/")
    events = page.get_by_test_id("security-event")
    assert events.count() == 2
    assert events.nth(0).get_attribute("data-kind") == "signed_in"
    assert events.nth(1).get_attribute("data-kind") == "sign_in_failed"
    assert "127.0.0.1" in events.nth(0).inner_text()
    assert "Chrome" in events.nth(0).inner_text()
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"security-{size}.png"), full_page=True)
    document, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert document <= window, f"the page is {document} px wide at {window} px"
    context.close()
