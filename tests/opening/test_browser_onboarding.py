"""The account application wizard, walked once in a real browser (a Texas applicant)."""

import pytest

from accounts.opening.models import Account
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_wizard_in_browser_opens_texas_cash_account(live_server, page, settings, tmp_path):
    settings.ACCOUNT_AUTO_APPROVE = True
    user = UserFactory(first_name="Taylor", last_name="Rivera")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("button", name="Open a new account").click()

    page.get_by_label("Individual cash").check()
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_label("Date of birth").fill("1988-04-12")
    page.get_by_label("Citizenship").select_option("US")
    page.get_by_label("Country of tax residence").select_option("US")
    # A wrong phone number first: the error is shown beside the field.
    page.get_by_label("Phone (with country code)").fill("12345")
    page.get_by_role("button", name="Save and continue").click()
    assert page.locator("#id_phone_errors").is_visible()
    page.get_by_label("Phone (with country code)").fill("+1 512 867 5309")
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_label("Street address", exact=True).fill("1100 Congress Ave")
    page.get_by_label("City", exact=True).fill("Austin")
    page.get_by_label("State", exact=True).select_option("TX")
    page.get_by_label("Postal code", exact=True).fill("78701")
    page.get_by_label("Country", exact=True).select_option("US")
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_label("Tax id type").select_option("ssn")
    page.get_by_label("SSN or ITIN").fill("219-09-9998")
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_label("Employment status").select_option("employed")
    page.get_by_label("Employer").fill("Lone Star Robotics")
    page.get_by_label("Occupation").fill("Engineer")
    page.get_by_label("Annual income").select_option("100000-250000")
    page.get_by_label("Net worth", exact=True).select_option("250000-1000000")
    page.get_by_label("Liquid net worth").select_option("100000-250000")
    page.get_by_label("Investment objective").select_option("growth")
    page.get_by_label("Investment experience").select_option("good")
    page.get_by_label("Risk tolerance").select_option("medium")
    page.get_by_role("button", name="Save and continue").click()

    for group in page.get_by_role("group").all():
        group.get_by_label("No").check()
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_label("I decline").check()
    page.get_by_role("button", name="Save and continue").click()

    assert "•••••9998" in page.content()
    page.get_by_label("Signature: type your full legal name").fill("Taylor Rivera")
    page.get_by_label("Customer agreement").check()
    page.get_by_label("Self-directed, no-advice acknowledgement").check()
    page.get_by_label("E-sign consent").check()
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    page.get_by_role("button", name="Submit application").click()

    assert page.get_by_test_id("application-status").inner_text() == "Approved"
    number = Account.objects.get(holders=user).account_number
    assert page.get_by_test_id("account-number").inner_text() == number
    assert "219-09-9998" not in page.content()
