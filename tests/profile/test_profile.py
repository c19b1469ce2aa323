"""The profile and settings page: name, address, phone, e-mail and delivery changes, each
audited (who, when, old → new); a new legal name or a move abroad or to an unregistered
state goes to staff review; nobody sees or changes another customer's profile."""

import logging

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.opening.models import AccountApplication, ApplicationStatus, RegisteredState
from accounts.profile import changes
from accounts.profile.models import CustomerProfile, ProfileChange
from rushtrade.errors import ServiceError
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "street_address": "100 Congress Ave",
    "street_address_2": "",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
}


@pytest.fixture
def customer():
    user = UserFactory(first_name="Dana", last_name="Miller")
    AccountApplication.objects.create(
        applicant=user,
        status=ApplicationStatus.APPROVED,
        given_name="Dana",
        family_name="Miller",
        phone="+15125550100",
        **ADDRESS,
    )
    return user


def post(client, section, data):
    return client.post(
        reverse("profile-change", args=[section]), {f"{section}-{k}": v for k, v in data.items()}
    )


def test_the_profile_starts_from_the_approved_application(client, customer):
    client.force_login(customer)
    page = client.get(reverse("profile"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="100 Congress Ave"' in html and 'value="+15125550100"' in html
    assert 'value="Dana"' in html


def test_a_phone_change_applies_at_once_and_is_audited(client, customer):
    client.force_login(customer)
    answer = post(client, "phone", {"phone": "(512) 555-0199"})
    assert answer.status_code == 302
    profile = CustomerProfile.objects.get(user=customer)
    assert profile.phone == "+15125550199"
    change = ProfileChange.objects.get(user=customer)
    assert change.kind == "phone" and change.status == "applied"
    assert change.old == {"phone": "+15125550100"} and change.new == {"phone": "+15125550199"}
    assert change.requested_by == customer and change.requested_at is not None
    assert "+15125550199" in client.get(reverse("profile")).content.decode()


def test_bad_input_is_named_and_changes_nothing(client, customer):
    client.force_login(customer)
    bad_phone = post(client, "phone", {"phone": "12"})
    assert bad_phone.status_code == 400 and b"phone number" in bad_phone.content
    bad_zip = post(client, "address", {**ADDRESS, "postal_code": "ABCDE"})
    assert bad_zip.status_code == 400 and b"postal code" in bad_zip.content
    po_box = post(client, "address", {**ADDRESS, "street_address": "PO Box 12"})
    assert po_box.status_code == 400 and b"PO box" in po_box.content
    no_state = post(client, "address", {**ADDRESS, "state": ""})
    assert no_state.status_code == 400
    hidden = post(client, "name", {"given_name": "Da\u202ena", "family_name": "Miller"})
    assert hidden.status_code == 400
    unknown = client.post(reverse("profile-change", args=["tax-id"]), {})
    assert unknown.status_code == 404
    assert not ProfileChange.objects.exists()
    assert CustomerProfile.objects.get(user=customer).postal_code == "78701"


def test_a_move_within_the_state_applies_but_abroad_waits_for_staff(
    client, customer, caplog, django_capture_on_commit_callbacks
):
    client.force_login(customer)
    assert (
        post(client, "address", {**ADDRESS, "street_address": "200 Lamar Blvd"}).status_code == 302
    )
    assert CustomerProfile.objects.get(user=customer).street_address == "200 Lamar Blvd"

    abroad = {
        "street_address": "Unter den Linden 1",
        "street_address_2": "",
        "city": "Berlin",
        "state": "",
        "postal_code": "10117",
        "country": "DE",
    }
    with caplog.at_level(logging.WARNING):
        assert post(client, "address", abroad).status_code == 302
    change = ProfileChange.objects.get(status="pending")
    assert "Germany" in change.review_reason and "W-8BEN" in change.review_reason
    assert f"Profile change {change.pk}" in caplog.text
    profile = CustomerProfile.objects.get(user=customer)
    assert profile.country == "US"  # not yet
    assert b'data-testid="pending-change"' in client.get(reverse("profile")).content
    # A second one of the same kind waits for the first.
    again = post(client, "address", {**abroad, "city": "Hamburg", "postal_code": "20095"})
    assert again.status_code == 400 and b"waiting for staff review" in again.content

    staff = StaffFactory()
    with django_capture_on_commit_callbacks(execute=True):
        changes.approve_change(change, staff, "Anmeldung seen")
    profile.refresh_from_db()
    assert profile.country == "DE" and profile.city == "Berlin"
    change.refresh_from_db()
    assert change.status == "approved" and change.decided_by == staff
    assert mail.outbox and "approved" in mail.outbox[-1].body
    with pytest.raises(ServiceError):
        changes.reject_change(change, staff, "twice")


def test_restricted_residence_is_refused(client, customer):
    client.force_login(customer)
    cuba = {**ADDRESS, "country": "CU", "state": "", "postal_code": "10400", "city": "Havana"}
    answer = post(client, "address", cuba)
    assert answer.status_code == 400 and b"residents of Cuba" in answer.content
    assert not ProfileChange.objects.exists()


def test_a_move_to_an_unregistered_state_waits_for_staff(client, customer):
    RegisteredState.objects.filter(code="NY").update(registered=False)
    client.force_login(customer)
    ny = {**ADDRESS, "city": "Albany", "state": "NY", "postal_code": "12207"}
    assert post(client, "address", ny).status_code == 302
    assert ProfileChange.objects.get().status == "pending"


def test_a_new_name_waits_for_staff_but_a_fixed_spelling_applies(client, customer):
    client.force_login(customer)
    post(client, "name", {"given_name": "Dana", "middle_name": "Jo", "family_name": "MILLER"})
    fixed = ProfileChange.objects.get()
    assert fixed.status == "applied"
    assert CustomerProfile.objects.get(user=customer).middle_name == "Jo"
    post(client, "name", {"given_name": "Dana", "family_name": "Schmidt"})
    renamed = ProfileChange.objects.get(status="pending")
    assert renamed.old["family_name"] == "MILLER" and renamed.new["family_name"] == "Schmidt"
    staff = StaffFactory()
    with pytest.raises(ServiceError):
        changes.reject_change(renamed, staff, "")
    changes.reject_change(renamed, staff, "The document did not show the new name.")
    assert CustomerProfile.objects.get(user=customer).family_name == "MILLER"


def test_delivery_preferences(client, customer):
    client.force_login(customer)
    answer = post(
        client, "delivery", {"statement_delivery": "paper", "confirmation_delivery": "electronic"}
    )
    assert answer.status_code == 302
    profile = CustomerProfile.objects.get(user=customer)
    assert profile.statement_delivery == "paper" and profile.confirmation_delivery == "electronic"
    bad = post(client, "delivery", {"statement_delivery": "fax", "confirmation_delivery": "paper"})
    assert bad.status_code == 400


def test_an_email_change_is_audited(customer, rf):
    from allauth.account.signals import email_changed

    old = EmailAddress.objects.get(user=customer)
    new = EmailAddress.objects.create(user=customer, email="new@example.com", verified=True)
    email_changed.send(
        sender=EmailAddress,
        request=rf.get("/"),
        user=customer,
        from_email_address=old,
        to_email_address=new,
    )
    change = ProfileChange.objects.get(kind="email")
    assert change.old == {"email": old.email} and change.new == {"email": "new@example.com"}


def test_nobody_sees_or_withdraws_another_customers_changes(client, customer):
    client.force_login(customer)
    post(client, "name", {"given_name": "Dana", "family_name": "Schmidt"})
    change = ProfileChange.objects.get()
    intruder = UserFactory(first_name="Eve", last_name="Other")
    client.force_login(intruder)
    html = client.get(reverse("profile")).content.decode()
    assert "Schmidt" not in html and "Congress" not in html and "Miller" not in html
    assert client.post(reverse("profile-change-withdraw", args=[change.pk])).status_code == 404
    change.refresh_from_db()
    assert change.status == "pending"
    client.force_login(customer)
    client.post(reverse("profile-change-withdraw", args=[change.pk]))
    change.refresh_from_db()
    assert change.status == "withdrawn"


def test_staff_decide_in_admin_and_the_queue_counts_it(client, customer):
    changes.change_name(customer, {"given_name": "Dana", "family_name": "Schmidt"}, by=customer)
    change = ProfileChange.objects.get()
    client.force_login(StaffFactory())
    home = client.get(reverse("admin:index")).content.decode()
    assert 'data-queue="profile_changes"' in home
    assert 'data-count="1"' in home.split('data-queue="profile_changes"')[1][:600]
    url = reverse("admin:accounts_profilechange_decide", args=[change.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"decision": "approve", "note": "Marriage certificate seen"})
    change.refresh_from_db()
    assert change.status == "approved"
    assert CustomerProfile.objects.get(user=customer).family_name == "Schmidt"
    customer.refresh_from_db()
    assert customer.last_name == "Schmidt"


def test_pages_need_a_login(client):
    assert client.get(reverse("profile")).status_code == 302
    assert client.post(reverse("profile-change", args=["phone"]), {}).status_code == 302
