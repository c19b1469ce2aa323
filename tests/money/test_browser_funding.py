"""In a real browser: link a bank, deposit, watch it settle without reloading."""

import pytest

from accounts.money import funding
from tests.factories import PASSWORD, ROUTING, AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_deposit_settles_on_screen(live_server, page, tmp_path):
    account = AccountFactory()
    user = account.holders.get()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name=account.account_number).click()
    page.get_by_role("link", name="Transfers").click()

    page.get_by_label("Nickname (optional)").fill("Everyday")
    page.get_by_label("Routing number (ABA)").fill(ROUTING)
    page.get_by_label("Account number").fill("12345678")
    page.get_by_role("button", name="Link bank").click()
    assert page.get_by_test_id("bank-link").inner_text().startswith("Everyday ••••5678")

    page.get_by_label("Amount (USD)").fill("750")
    page.get_by_role("button", name="Request transfer").click()
    status = page.get_by_test_id("transfer-status").first
    assert status.inner_text() == "Requested"

    transfer = account.transfers.get()
    funding.submit_transfer(transfer)
    funding.complete_transfer(transfer)
    # The list polls (htmx): the new status shows without a reload.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=transfer-status]').innerText === 'Completed'",
        timeout=15_000,
    )
    page.screenshot(path=str(tmp_path / "transfers.png"), full_page=True)
    page.get_by_role("link", name="Overview").click()
    assert page.get_by_test_id("cash").inner_text() == "$750.00"
    assert page.get_by_test_id("withdrawable").inner_text() == "$750.00"
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
