"""In a real browser: staff find a break on the Reconciliation page (warned of on the
admin home) and accept the clearing firm's figure with a reason, at desktop and phone
widths, under the Content-Security-Policy."""

import os
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import StaffFactory, totp_code
from tests.security.test_browser_csp import sign_in, watch
from trading.clearing import cycle
from trading.clearing.models import Break
from trading.simulation import clearing_firm

from .conftest import open_account, sessions_back, trade

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = (
    Path(os.environ.get("CLEARING_SCREENSHOTS", ""))
    if os.environ.get("CLEARING_SCREENSHOTS")
    else None
)


def test_work_a_break_in_admin(live_server, page, acme, tmp_path):
    account = open_account()
    trade(account, "buy", 10, "100.00", "BR1")
    day = timezone.localdate()
    cycle.evening(day)
    clearing_firm.answer(day, inject=["cash_difference"])
    cycle.morning(day)
    item = Break.objects.get()
    Break.objects.filter(pk=item.pk).update(first_seen_on=sessions_back(3)[0])

    staff = StaffFactory()
    page.set_default_timeout(60_000)  # generous: the machine running the suite may be busy
    violations = watch(page)
    base = live_server.url
    sign_in(page, base, staff.email, code=totp_code())
    folder = SHOTS or tmp_path
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(base + "/admin/")
        warning = page.locator("#home-warnings")
        assert "older than one business day" in warning.inner_text()
        page.screenshot(path=str(folder / f"admin-home-{width}.png"), full_page=True)
        warning.get_by_role("link").click()
        summary = page.locator("#reconciliation-summary")
        assert "1 open break" in summary.inner_text()
        assert account.account_number in page.locator("#result_list").inner_text()
        page.screenshot(path=str(folder / f"reconciliation-{width}.png"), full_page=True)

    page.get_by_role("link", name="Accept clearing's figure").click()
    page.get_by_label("Reason").fill("Courtesy credit by the clearing firm, confirmed")
    page.screenshot(path=str(folder / "accept-390.png"), full_page=True)
    page.get_by_role("button", name="Accept the clearing firm's figure").click()
    assert "Done" in page.locator(".messagelist").inner_text()
    item.refresh_from_db()
    assert item.status == "accepted" and item.journal_entry.created_by == staff
    assert violations == []


def test_customer_sees_a_split_in_activity(live_server, page, acme, tmp_path):
    from fractions import Fraction

    from trading.orders.adjustments import adjust_position
    from trading.orders.models import PositionAdjustment

    account = open_account()
    trade(account, "buy", 10, "100.00", "SP1")
    adjust_position(
        account,
        acme,
        kind=PositionAdjustment.Kind.SPLIT,
        ratio=Fraction(2, 1),
        reference="split:test",
        effective_on=timezone.localdate(),
        description="ACME 2-for-1 split",
    )
    page.set_default_timeout(60_000)
    violations = watch(page)
    base = live_server.url
    sign_in(page, base, account.holders.get().email)
    folder = SHOTS or tmp_path
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{base}/account/{account.account_number}/activity/")
        table = page.get_by_test_id("position-changes")
        assert "ACME 2-for-1 split" in table.inner_text() and "+10" in table.inner_text()
        page.screenshot(path=str(folder / f"activity-split-{width}.png"), full_page=True)
    assert violations == []
