"""The first hour of a new customer in a real browser, at a desktop's and a phone's width
(issue 15, points 7, 8 and 10): the wizard walked step by step (fields appear as they
apply, the state is a list, Review summarises, the agreements open), approval leads to
funding, the empty account's guide, the ticket's price fields and the watchlist by name.
No page is wider than the window."""

import os
from pathlib import Path

import pytest

from accounts.money import funding
from accounts.opening.models import Account, ApplicationStatus
from tests.factories import PASSWORD, SecurityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, browser, tmp_path):
    width, height = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / request.param
    shots.mkdir(parents=True, exist_ok=True)

    def check(name: str) -> None:
        """No wider than the window, and a full-page screenshot to look at."""
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        document, window = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert document <= window, f"{name}: the page is {document} px wide at {window} px"

    page.check_width = check
    yield page
    context.close()


def log_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/")


def next_step(page):
    page.get_by_role("button", name="Save and continue").click()


def test_wizard_walk_to_a_funded_first_order(live_server, sized_page, settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    page = sized_page
    SecurityFactory(symbol="TSLA", name="Tesla, Inc.")
    user = UserFactory(first_name="Jordan", last_name="Blake")
    log_in(page, live_server, user)
    page.check_width("01-home")
    page.get_by_role("button", name="Open a new account").click()

    # Account type: only what can be opened.
    assert page.get_by_label("Joint").count() == 0 and page.get_by_label("Roth IRA").count() == 0
    page.check_width("02-account-type")
    next_step(page)  # nothing chosen: the step stays and says why
    assert page.get_by_test_id("form-errors").is_visible()
    page.get_by_label("Individual cash").check()
    next_step(page)

    page.get_by_label("Date of birth").fill("1985-09-30")
    page.get_by_label("Citizenship").select_option("US")
    page.get_by_label("Country of tax residence").select_option("US")
    page.get_by_label("Phone (with country code)").fill("+1 614 555 0134")
    page.check_width("03-identity")
    next_step(page)

    # Address: the state is a list of US states; mailing fields only when they differ.
    mailing = page.get_by_label("Mailing street address")
    assert mailing.is_hidden()
    page.get_by_label("My mailing address is the same").uncheck()
    assert mailing.is_visible()
    page.get_by_label("My mailing address is the same").check()
    assert mailing.is_hidden()
    page.get_by_label("Street address", exact=True).fill("90 W Broad St")
    page.get_by_label("City", exact=True).fill("Columbus")
    page.get_by_label("State", exact=True).select_option(label="Ohio")
    page.get_by_label("Postal code", exact=True).fill("43215")
    page.get_by_label("Country", exact=True).select_option("CA")
    assert page.get_by_label("State", exact=True).is_hidden()  # Canada: a province, typed
    assert page.get_by_label("Province or region").is_visible()
    page.get_by_label("Country", exact=True).select_option("US")
    page.check_width("04-address")
    next_step(page)

    # A US citizen: an SSN or ITIN, no passport or foreign tax fields.
    assert page.get_by_label("Foreign tax identification number").count() == 0
    assert page.get_by_label("Tax id type").locator("option[value=passport]").count() == 0
    page.get_by_label("Tax id type").select_option("ssn")
    page.get_by_label("SSN or ITIN").fill("219-09-9998")
    page.check_width("05-tax-id")
    next_step(page)

    assert page.get_by_label("Employer").is_hidden()
    page.get_by_label("Employment status").select_option("employed")
    assert page.get_by_label("Employer").is_visible()
    page.get_by_label("Employer").fill("Buckeye Instruments")
    page.get_by_label("Occupation").fill("Technician")
    page.get_by_label("Annual income").select_option("50000-100000")
    page.get_by_label("Net worth", exact=True).select_option("100000-250000")
    page.get_by_label("Liquid net worth").select_option("25000-50000")
    page.get_by_label("Investment objective").select_option("growth")
    page.get_by_label("Investment experience").select_option("limited")
    page.get_by_label("Risk tolerance").select_option("medium")
    page.check_width("06-profile")
    next_step(page)

    assert page.get_by_label("Which firm?").is_hidden()
    for group in page.get_by_role("group").all():
        group.get_by_label("No").check()
    page.check_width("07-disclosures")
    next_step(page)

    page.get_by_label("I name a trusted contact").check()
    assert page.get_by_label("Trusted contact name").is_visible()
    page.get_by_label("I decline").check()
    assert page.get_by_label("Trusted contact name").is_hidden()
    next_step(page)

    # Review: the whole application, each step a link away; agreements to read.
    summary = page.get_by_test_id("summary")
    for shown in ("Individual cash", "Ohio (OH)", "•••••9998", "Buckeye Instruments"):
        assert shown in summary.inner_text(), shown
    assert summary.get_by_role("link", name="Change address").is_visible()
    link = page.get_by_role("link", name="read it (version 2026-01)").first
    href = link.get_attribute("href")
    page.check_width("08-review")
    page.get_by_label("Signature: type your full legal name").fill("Jordan Blake")
    page.get_by_label("Customer agreement").check()
    page.get_by_label("Self-directed, no-advice acknowledgement").check()
    page.get_by_label("E-sign consent").check()
    page.get_by_role("button", name="Submit application").click()

    # Approved: the next step is funding.
    assert page.get_by_test_id("application-status").inner_text() == "Approved"
    account = Account.objects.get(holders=user)
    assert account.application.status == ApplicationStatus.APPROVED
    assert account.application.agreement_versions["customer_agreement"] == "2026-01"
    page.check_width("09-approved")
    page.get_by_role("link", name="Go to the account").click()
    guide = page.get_by_test_id("first-run")
    assert guide.get_by_role("link", name="Fund your account").is_visible()
    assert guide.get_by_role("link", name="Place an order").count() == 0
    page.check_width("10-first-run")

    # Funding: link the bank, deposit; the guide follows the money.
    guide.get_by_role("link", name="Fund your account").click()
    page.get_by_label("Routing number (ABA)").fill("021000021")
    page.get_by_label("Account number").fill("000123456789")
    page.get_by_label("Type").select_option("checking")
    page.get_by_role("button", name="Link bank").click()
    page.get_by_label("Amount (USD)").fill("2500")
    page.get_by_role("button", name="Request transfer").click()
    page.check_width("10b-transfers")
    page.goto(live_server.url + f"/account/{account.account_number}/")
    assert "$2,500.00 is on its way" in page.get_by_test_id("first-run-fund").inner_text()
    transfer = account.transfers.get()
    funding.complete_transfer(transfer)  # the bank's answer (the ACH simulator's job)
    page.reload()
    page.get_by_test_id("first-run").get_by_role("link", name="Place an order").click()
    page.wait_for_url(f"**/account/{account.account_number}/trade/")

    # The agreement accepted can be read.
    page.goto(live_server.url + href)
    assert "Version 2026-01" in page.get_by_test_id("agreement-version").inner_text()
    page.check_width("11-agreement")

    # The ticket: market first, prices only where the type uses them.
    page.goto(live_server.url + f"/account/{account.account_number}/trade/")
    assert page.get_by_label("Order type").input_value() == "market"
    assert (
        page.get_by_label("Limit price").is_hidden() and page.get_by_label("Stop price").is_hidden()
    )
    page.get_by_label("Order type").select_option("limit")
    assert (
        page.get_by_label("Limit price").is_visible()
        and page.get_by_label("Stop price").is_hidden()
    )
    page.get_by_label("Order type").select_option("stop_limit")
    assert page.get_by_label("Stop price").is_visible()
    page.check_width("12-ticket")

    # The watchlist finds a company by its name.
    page.goto(live_server.url + "/watchlist/")
    page.get_by_label("Symbol or company").fill("Tesla")
    page.get_by_role("button", name="Add").click()
    assert page.get_by_test_id("watch-TSLA").is_visible()
    page.check_width("13-watchlist")

    # Home: the account by its number, the application by its number and name.
    page.goto(live_server.url + "/")
    line = page.get_by_test_id("application-line")
    assert account.account_number in line.inner_text() and "Jordan Blake" in line.inner_text()
    page.check_width("14-home")


def test_address_step_without_javascript(live_server, browser, settings):
    """With scripting off the server decides what shows: fields for the values posted,
    the ones that do not apply ignored."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        user = UserFactory(first_name="Noa", last_name="Levi")
        log_in(page, live_server, user)
        page.get_by_role("button", name="Open a new account").click()
        application = user.applications.get()
        application.tax_residence = "US"  # the address step starts from it: a US address
        application.save()
        page.goto(live_server.url + f"/applications/{application.pk}/address/")
        assert page.get_by_label("Mailing street address").is_hidden()
        page.get_by_label("Country", exact=True).select_option("CA")
        page.get_by_label("Street address", exact=True).fill("290 Bremner Blvd")
        page.get_by_label("City", exact=True).fill("Toronto")
        page.get_by_label("State", exact=True).select_option("OH")  # left from the US default
        page.get_by_label("Postal code", exact=True).fill("M5V 3L9")
        page.get_by_label("My mailing address is the same").uncheck()
        next_step(page)
        # Canada: the province is asked for; the mailing address too; Ohio was ignored.
        assert page.get_by_label("Province or region").is_visible()
        assert page.get_by_label("State", exact=True).is_hidden()
        assert page.get_by_label("Mailing street address").is_visible()
        application.refresh_from_db()
        assert (application.country, application.state) == ("CA", "")
        page.get_by_label("Province or region").fill("ON")
        page.get_by_label("My mailing address is the same").check()
        next_step(page)
        page.wait_for_url(f"**/applications/{application.pk}/tax-id/")
        application.refresh_from_db()
        assert (application.state, application.mailing_same_as_residential) == ("ON", True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
