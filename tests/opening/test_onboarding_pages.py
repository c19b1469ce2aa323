"""The application wizard's pages and the staff review in admin."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.opening import onboarding
from accounts.opening.models import Account, AccountApplication, ApplicationStatus
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXAS_STEPS = {
    "account-type": {"account_type": "individual_cash"},
    "identity": {
        "given_name": "Taylor",
        "family_name": "Rivera",
        "date_of_birth": "1988-04-12",
        "citizenship": "US",
        "tax_residence": "US",
        "email": "taylor@example.com",
        "phone": "(512) 867-5309",
    },
    "address": {
        "street_address": "1100 Congress Ave",
        "city": "Austin",
        "us_state": "TX",
        "postal_code": "78701",
        "country": "US",
        "mailing_same_as_residential": "on",
    },
    "tax-id": {"tax_id_type": "ssn", "tax_id": "219-09-9998"},
    "profile": {
        "employment_status": "employed",
        "employer": "Lone Star Robotics",
        "occupation": "Engineer",
        "annual_income": "100000-250000",
        "net_worth": "250000-1000000",
        "liquid_net_worth": "100000-250000",
        "investment_objective": "growth",
        "investment_experience": "good",
        "risk_tolerance": "medium",
    },
    "disclosures": {
        "is_control_person": "false",
        "is_affiliated_with_broker": "false",
        "is_politically_exposed": "false",
    },
    "trusted-contact": {"trusted_contact_declined": "true"},
    "review": {
        "tax_certification_signature": "Taylor Rivera",
        "agreements": ["customer_agreement", "self_directed_acknowledgement", "esign_consent"],
    },
}

CANADA_STEPS = {
    **TEXAS_STEPS,
    "identity": {
        **TEXAS_STEPS["identity"],
        "given_name": "Chloé",
        "family_name": "Tremblay",
        "citizenship": "CA",
        "tax_residence": "CA",
        "phone": "+1 416 979 2000",
    },
    "address": {
        "street_address": "290 Bremner Blvd",
        "city": "Toronto",
        "state": "ON",
        "postal_code": "M5V 3L9",
        "country": "CA",
        "mailing_same_as_residential": "on",
    },
    "tax-id": {
        "tax_id_type": "passport",
        "tax_id": "AB123456",
        "tax_id_country": "CA",
        "foreign_tax_id": "130-692-544",
    },
    "review": {
        **TEXAS_STEPS["review"],
        "tax_certification_signature": "Chloé Tremblay",
        "treaty_country": "CA",
        "treaty_article": "Article XXI",
    },
}


def walk(client, steps):
    response = client.post(reverse("application-start"))
    assert response.status_code == 302
    application = AccountApplication.objects.latest("created_at")
    for step, data in steps.items():
        url = reverse("application-step", args=[application.pk, step])
        assert client.get(url).status_code == 200
        response = client.post(url, data)
        assert response.status_code == 302, (step, response.context["form"].errors)
    return application


@pytest.mark.parametrize("steps", [TEXAS_STEPS, CANADA_STEPS], ids=["texas", "canada"])
def test_wizard_opens_an_account(client, settings, steps, django_capture_on_commit_callbacks):
    settings.ACCOUNT_AUTO_APPROVE = True
    user = UserFactory()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        application = walk(client, steps)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    account = Account.objects.get(holders=user)
    detail = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert account.account_number in detail
    assert account.account_number in client.get("/").content.decode()
    tax_id = steps["tax-id"]["tax_id"]
    assert tax_id not in detail and tax_id.replace("-", "") not in detail
    assert "•••••" + tax_id.replace("-", "")[-4:] in detail
    assert len(mail.outbox) == 1


def test_wizard_shows_field_errors_and_keeps_draft(client):
    client.force_login(UserFactory())
    client.post(reverse("application-start"))
    application = AccountApplication.objects.get()
    url = reverse("application-step", args=[application.pk, "identity"])
    response = client.post(url, {**TEXAS_STEPS["identity"], "tax_residence": "IR", "phone": "123"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "We cannot open accounts for residents of Iran" in errors["tax_residence"][0]
    assert "phone" in errors
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    application.refresh_from_db()
    assert application.given_name == "Casey"  # as pre-filled: nothing from the refused step
    assert application.phone == ""


def test_submitting_incomplete_lists_missing_fields_with_steps(client):
    client.force_login(UserFactory())
    client.post(reverse("application-start"))
    application = AccountApplication.objects.get()
    response = client.post(
        reverse("application-step", args=[application.pk, "review"]), TEXAS_STEPS["review"]
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "Date of birth: This field is required. (step “About you”)" in errors


def test_other_customers_application_pages_are_404(client):
    theirs = onboarding.start_application(UserFactory())
    client.force_login(UserFactory())
    assert client.get(reverse("application-detail", args=[theirs.pk])).status_code == 404
    url = reverse("application-step", args=[theirs.pk, "identity"])
    assert client.get(url).status_code == 404
    assert client.post(url, TEXAS_STEPS["identity"]).status_code == 404
    theirs.refresh_from_db()
    assert theirs.given_name != "Taylor"


def test_pages_need_login(client):
    response = client.post(reverse("application-start"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Staff review in admin ---------------------------------------------------------------


@pytest.fixture
def flagged(settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    user = UserFactory()
    client = Client()
    client.force_login(user)
    steps = {
        **TEXAS_STEPS,
        "disclosures": {
            "is_control_person": "false",
            "is_affiliated_with_broker": "true",
            "affiliated_firm": "Big Street Securities",
            "is_politically_exposed": "false",
        },
    }
    application = walk(client, steps)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTION_REQUIRED
    return application


@pytest.fixture
def staff_client(client):
    staff = StaffFactory()
    client.force_login(staff)
    client.staff = staff
    return client


def decide(client, application, decision, note=""):
    url = reverse("admin:accounts_accountapplication_decide", args=[application.pk])
    return client.post(url, {"decision": decision, "reason": note})


def test_queue_filters_and_masks_tax_id(staff_client, flagged):
    changelist = reverse("admin:accounts_accountapplication_changelist")
    listing = staff_client.get(changelist, {"status__exact": "action_required"})
    assert listing.status_code == 200
    assert "broker_dealer_affiliation" in listing.content.decode()
    assert staff_client.get(changelist, {"q": "9998"}).context["cl"].result_count == 1
    page = staff_client.get(
        reverse("admin:accounts_accountapplication_change", args=[flagged.pk])
    ).content.decode()
    assert "219-09-9998" not in page and "219099998" not in page
    assert "•••••9998" in page
    assert "Big Street Securities" in page
    assert "Decide: approve" in page


def test_staff_approve_opens_account_and_is_audited(
    staff_client, flagged, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(staff_client, flagged, "approve", "Rule 3210 letter on file")
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.status == ApplicationStatus.APPROVED
    assert Account.objects.filter(application=flagged).exists()
    event = flagged.events.get(action="approved")
    assert event.actor == staff_client.staff
    assert event.from_status == "action_required" and event.to_status == "approved"
    assert "Rule 3210 letter on file" in event.note
    assert mail.outbox[-1].subject == "Your RushTrade application: Approved"
    page = staff_client.get(
        reverse("admin:accounts_accountapplication_change", args=[flagged.pk])
    ).content.decode()
    assert "Rule 3210 letter on file" in page


def test_staff_reject_needs_reason(staff_client, flagged):
    response = decide(staff_client, flagged, "reject", "")
    assert response.status_code == 200
    assert "reason is required" in response.content.decode()
    flagged.refresh_from_db()
    assert flagged.status == ApplicationStatus.ACTION_REQUIRED
    assert not flagged.events.filter(action="rejected").exists()

    decide(staff_client, flagged, "reject", "Employer consent refused")
    flagged.refresh_from_db()
    assert flagged.status == ApplicationStatus.REJECTED
    event = flagged.events.get(action="rejected")
    assert event.actor == staff_client.staff and event.note == "Employer consent refused"
    assert not Account.objects.exists()
    assert decide(staff_client, flagged, "approve").status_code == 200  # nothing to decide
    flagged.refresh_from_db()
    assert flagged.status == ApplicationStatus.REJECTED


def test_staff_request_information_then_applicant_resubmits(staff_client, flagged, settings):
    settings.ACCOUNT_AUTO_APPROVE = False
    decide(staff_client, flagged, "request_information", "Send your employer's consent letter")
    flagged.refresh_from_db()
    assert flagged.status == ApplicationStatus.ACTION_REQUIRED
    assert flagged.review_reasons[-1]["message"] == "Send your employer's consent letter"
    event = flagged.events.get(action="information_requested")
    assert event.actor == staff_client.staff

    staff_client.force_login(flagged.applicant)
    detail = staff_client.get(reverse("application-detail", args=[flagged.pk])).content.decode()
    assert "Send your employer&#x27;s consent letter" in detail
    application = onboarding.submit_application(flagged, flagged.applicant)
    assert application.status == ApplicationStatus.ACTION_REQUIRED  # still flagged


def test_customer_cannot_reach_review(client, flagged):
    client.force_login(UserFactory())
    response = decide(client, flagged, "approve")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    flagged.refresh_from_db()
    assert flagged.status == ApplicationStatus.ACTION_REQUIRED


def test_account_and_customer_pages_in_admin(staff_client, settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    user = UserFactory()
    staff_client.force_login(user)
    walk(staff_client, TEXAS_STEPS)
    staff_client.force_login(StaffFactory())
    account = Account.objects.get()
    listing = staff_client.get(
        reverse("admin:accounts_account_changelist"), {"q": user.email}
    ).content.decode()
    assert account.account_number in listing
    page = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert account.account_number in page.content.decode()


def test_tax_id_never_in_logs_or_email(
    client, settings, caplog, django_capture_on_commit_callbacks
):
    settings.ACCOUNT_AUTO_APPROVE = True
    caplog.set_level("DEBUG")
    client.force_login(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        walk(client, TEXAS_STEPS)
    assert "219099998" not in caplog.text and "219-09-9998" not in caplog.text
    assert mail.outbox
    for message in mail.outbox:
        assert "219-09-9998" not in message.body and "219099998" not in message.body
