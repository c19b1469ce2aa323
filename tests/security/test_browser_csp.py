"""In a real browser: the customer's and the staff's pages load under the
Content-Security-Policy with no violation (scripts, styles, htmx, charts, Swagger UI,
the admin)."""

from decimal import Decimal

import pytest

from tests.factories import PASSWORD, AccountFactory, StaffFactory, fund, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda m: (
            violations.append(f"{page.url}: {m.text[:160]}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective "
        "+ ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber + ' ' + e.sample));"
    )
    return violations


def sign_in(page, base, email, code=None):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if code:
        page.wait_for_url("**/2fa/authenticate/")
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(base + "/**")


def test_customer_pages_have_no_csp_violation(live_server, page, acme):
    account = AccountFactory()
    fund(account, Decimal("1000.00"))
    violations = watch(page)
    base = live_server.url
    sign_in(page, base, account.holders.get().email)
    number = account.account_number
    for path in (
        "/",
        f"/account/{number}/",
        f"/account/{number}/trade/",
        f"/account/{number}/orders/",
        f"/account/{number}/transfers/",
        f"/account/{number}/activity/",
        f"/account/{number}/documents/",
        "/watchlist/",
        "/portfolio/",
        "/security/",
        "/accounts/2fa/",
        "/api/docs/",
    ):
        response = page.goto(base + path)
        assert response.status < 400, path
        page.wait_for_load_state("networkidle")
    assert violations == []


def test_staff_pages_have_no_csp_violation(live_server, page):
    staff = StaffFactory()
    violations = watch(page)
    base = live_server.url
    sign_in(page, base, staff.email, code=totp_code())
    for path in (
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{staff.pk}/change/",
        "/admin/accounts/accountapplication/",
        "/admin/accounts/apitoken/",
        "/staff/statistics/",
    ):
        response = page.goto(base + path)
        assert response.status < 400, path
        page.wait_for_load_state("networkidle")
    assert violations == []
