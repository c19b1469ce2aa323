"""The admin home is a work queue (issue 15, point 12): what waits on staff, counted and
linked, with the statistics pages one click away; the applications list filters by
country without listing every country in the world."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.money import funding
from accounts.opening.models import AccountApplication, ApplicationStatus
from tests.factories import ROUTING, AccountFactory, StaffFactory, UserFactory
from trading.orders import entry
from trading.orders.models import OutboxMessage
from trading.routing.models import InboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def counts(html: str) -> dict[str, int]:
    return {
        key: int(n)
        for key, n in re.findall(r'data-queue="([a-z_]+)".*?data-count="(\d+)"', html, flags=re.S)
    }


def application(status, country="US"):
    return AccountApplication.objects.create(
        applicant=UserFactory(), status=status, country=country
    )


def test_an_empty_queue_shows_zero_everywhere_and_links_the_statistics(staff_client):
    page = staff_client.get(reverse("admin:index"))
    assert page.status_code == 200
    html = page.content.decode()
    found = counts(html)
    assert set(found) >= {
        "applications_submitted",
        "applications_review",
        "transfers",
        "orders_unsent",
        "orders_waiting",
        "inbound_parked",
        "lockouts",
    }
    assert set(found.values()) == {0}
    assert reverse("staff-statistics") in html
    assert reverse("admin:trading_routingsession_changelist") in html


def test_each_queue_counts_what_waits_and_links_to_its_list(staff_client, acme):
    application(ApplicationStatus.SUBMITTED)
    application(ApplicationStatus.SUBMITTED)
    application(ApplicationStatus.ACTION_REQUIRED)
    application(ApplicationStatus.APPROVED)
    application(ApplicationStatus.DRAFT)
    account = AccountFactory()
    user = account.holders.get()
    link = funding.link_bank(
        account,
        user,
        routing_number=ROUTING,
        bank_account_number="000123456789",
        bank_account_type="checking",
    )
    transfer, _ = funding.request_transfer(
        account, user, direction="deposit", amount=Decimal("5000.00"), bank_link_id=link.pk
    )
    funding.complete_transfer(transfer)
    funding.request_transfer(
        account, user, direction="deposit", amount=Decimal("100.00"), bank_link_id=link.pk
    )
    for qty in (1, 2, 3):
        entry.place_order(
            account,
            user,
            symbol="ACME",
            side="buy",
            order_type="limit",
            limit_price="99.00",
            time_in_force="day",
            qty=qty,
        )
    sent = OutboxMessage.objects.order_by("id").first()
    sent.sent_at = timezone.now() - timedelta(minutes=10)
    sent.save()
    InboundMessage.objects.create(
        session="RUSHTRADE->ROUTER",
        msg_seq_num=7,
        msg_type="8",
        raw="8=FIX.4.2|35=8|",
        state=InboundMessage.State.PARKED,
        reason="unknown ClOrdID",
    )

    html = staff_client.get(reverse("admin:index")).content.decode()
    found = counts(html)
    assert found["applications_submitted"] == 2
    assert found["applications_review"] == 1
    assert found["transfers"] == 1
    assert found["orders_unsent"] == 2
    assert found["orders_waiting"] == 1
    assert found["inbound_parked"] == 1
    assert "1 unanswered for more than" in html
    # The routing page's problems are the home page's warning too.
    assert "Routing is degraded: 1 parked inbound messages" in html

    # Every link opens a list showing exactly the rows counted.
    for key, expected, column in [
        ("applications_submitted", 2, "field-full_name"),
        ("transfers", 1, "field-amount"),
        ("orders_unsent", 2, "field-cl_ord_id"),
        ("orders_waiting", 1, "field-cl_ord_id"),
        ("inbound_parked", 1, "field-reason"),
    ]:
        url = re.search(rf'data-queue="{key}".*?href="([^"]+)"', html, flags=re.S).group(1)
        listed = staff_client.get(url.replace("&amp;", "&"))
        assert listed.status_code == 200, key
        assert "?e=1" not in listed.get("Location", ""), key
        assert listed.content.decode().count(f'class="{column}"') == expected, key


def test_customers_do_not_see_the_queue(client):
    client.force_login(UserFactory())
    page = client.get(reverse("admin:index"))
    assert page.status_code == 302 or b"Work waiting" not in page.content


def test_application_list_filters_by_country_without_a_wall_of_countries(staff_client):
    for country, n in [("US", 3), ("DE", 2), ("FR", 1)]:
        for _ in range(n):
            application(ApplicationStatus.SUBMITTED, country)
    url = reverse("admin:accounts_accountapplication_changelist")
    html = staff_client.get(url).content.decode()
    assert "Germany (2)" in html and "France (1)" in html
    assert "Zimbabwe" not in html and "Georgia" not in html
    germans = staff_client.get(url, {"country": "DE"}).content.decode()
    assert germans.count('class="field-full_name"') == 2
