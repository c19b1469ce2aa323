"""The W-8BEN treaty country is chosen from the list of countries and must be the
applicant's country of tax residence (issue 15, point 1: "Germany" typed as free text
was saved as GE, Georgia); doubtful values saved before are flagged, not guessed."""

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.opening import onboarding
from accounts.opening.api import FOREIGN_EXAMPLE
from accounts.opening.models import AccountApplication, ApplicationStatus
from tests.factories import StaffFactory, UserFactory
from tests.opening.test_onboarding_pages import CANADA_STEPS, walk

pytestmark = pytest.mark.django_db

GERMANY = {k: v for k, v in FOREIGN_EXAMPLE.items() if k != "accept_agreements"}


def german_draft() -> AccountApplication:
    user = UserFactory(first_name="Jonas", last_name="Becker")
    data = {k: v for k, v in GERMANY.items() if not k.startswith("treaty_")}
    data["date_of_birth"] = date.fromisoformat(data["date_of_birth"])
    return onboarding.start_application(user, data)


def review(client, application, **data):
    url = reverse("application-step", args=[application.pk, "review"])
    return client.post(
        url,
        {
            "tax_certification_signature": "Jonas Becker",
            "agreements": ["customer_agreement", "self_directed_acknowledgement", "esign_consent"],
            **data,
        },
    )


def test_review_offers_a_list_of_countries_not_a_text_box():
    application = german_draft()
    client = Client()
    client.force_login(application.applicant)
    html = client.get(reverse("application-step", args=[application.pk, "review"])).content
    html = html.decode()
    assert '<select name="treaty_country"' in html
    assert '<option value="DE">Germany</option>' in html
    assert 'maxlength="2"' not in html


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Germany", "Select a valid choice"),  # what a browser sends from a free-text box
        ("GE", "not Georgia"),  # the 2-letter cut: a real code, the wrong country
    ],
)
def test_wrong_treaty_country_is_refused_and_not_saved(typed, message):
    application = german_draft()
    client = Client()
    client.force_login(application.applicant)
    response = review(client, application, treaty_country=typed, treaty_article="Article 10")
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["treaty_country"])
    application.refresh_from_db()
    assert application.treaty_country == ""
    assert application.status == ApplicationStatus.DRAFT


def test_treaty_country_of_residence_is_saved(settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    application = german_draft()
    client = Client()
    client.force_login(application.applicant)
    response = review(client, application, treaty_country="DE", treaty_article="Article 10")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.treaty_country.code == "DE"
    assert application.status == ApplicationStatus.APPROVED


def test_wizard_still_opens_a_canadian_account_claiming_the_treaty(client, settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    client.force_login(UserFactory())
    application = walk(client, CANADA_STEPS)
    application.refresh_from_db()
    assert application.treaty_country.code == "CA"


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"treaty_country": "XX"}, "treaty_country", "invalid_country"),
        ({"treaty_country": "Gremany"}, "treaty_country", "invalid_country"),
        ({"treaty_country": "GE"}, "treaty_country", "treaty_country_mismatch"),
        ({"treaty_article": "Article 10"}, "treaty_article", "treaty_country_required"),
        ({"citizenship": "ZZ"}, "citizenship", "invalid_country"),
    ],
)
def test_api_refuses_non_iso_and_mismatched_countries(changes, field, code):
    application = german_draft()
    api = APIClient()
    api.force_authenticate(application.applicant)
    response = api.patch(f"/api/v1/applications/{application.pk}", changes, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body["fields"]
    if field in ("treaty_country", "treaty_article") and code != "invalid_country":
        assert body["fields"][field]["code"] == code
    application.refresh_from_db()
    assert application.treaty_country == "" and application.treaty_article == ""


def test_api_reads_a_full_country_name_as_its_code():
    application = german_draft()
    api = APIClient()
    api.force_authenticate(application.applicant)
    response = api.patch(
        f"/api/v1/applications/{application.pk}", {"treaty_country": "Germany"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["treaty_country"] == "DE"


def test_service_names_the_field_and_code():
    application = german_draft()
    with pytest.raises(onboarding.ApplicationError) as caught:
        onboarding.update_application(application, application.applicant, {"country": "XX"})
    error = caught.value.fields["country"]
    assert error.code == "invalid_country"
    assert error.message.startswith("Country:")


def test_us_person_cannot_claim_a_treaty():
    user = UserFactory()
    application = onboarding.start_application(user, {"citizenship": "US", "tax_residence": "US"})
    with pytest.raises(onboarding.ApplicationError) as caught:
        onboarding.update_application(application, user, {"treaty_country": "DE"})
    assert caught.value.fields["treaty_country"].code == "treaty_not_applicable"


# --- Values saved before the list: flagged for staff, not guessed -----------------------


def flag_existing_rows():
    migration = importlib.import_module("accounts.migrations.0009_flag_doubtful_treaty_countries")
    migration.flag(apps, None)


def test_doubtful_saved_treaty_countries_are_flagged_for_staff(settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    approved = german_draft()
    AccountApplication.objects.filter(pk=approved.pk).update(
        treaty_country="GE", status=ApplicationStatus.APPROVED
    )
    waiting = german_draft()
    AccountApplication.objects.filter(pk=waiting.pk).update(
        treaty_country="G", status=ApplicationStatus.SUBMITTED
    )
    fine = german_draft()
    AccountApplication.objects.filter(pk=fine.pk).update(treaty_country="DE")

    flag_existing_rows()

    approved.refresh_from_db()
    assert approved.treaty_country.code == "GE"  # left as it was: what was meant is unknown
    assert approved.events.get(action="data_flagged").note.startswith(
        "Check the W-8BEN: treaty country GE differs from the country of tax residence DE"
    )
    waiting.refresh_from_db()
    assert waiting.review_reasons[-1]["code"] == "treaty_country_check"
    assert not fine.events.filter(action="data_flagged").exists()

    staff = Client()
    staff.force_login(StaffFactory())
    changelist = reverse("admin:accounts_accountapplication_changelist")
    listing = staff.get(changelist, {"flagged": "yes"})
    assert {a.pk for a in listing.context["cl"].result_list} == {approved.pk, waiting.pk}
    page = staff.get(reverse("admin:accounts_accountapplication_change", args=[approved.pk]))
    html = page.content.decode()
    assert "treaty_country: treaty_country_mismatch" in html
    assert "not Georgia" in html

    # The applicant cannot resubmit the waiting one until the treaty country is right.
    AccountApplication.objects.filter(pk=waiting.pk).update(
        status=ApplicationStatus.ACTION_REQUIRED
    )
    with pytest.raises(onboarding.ApplicationError) as caught:
        onboarding.submit_application(waiting, waiting.applicant)
    assert caught.value.fields["treaty_country"].code == "invalid_country"


def test_flagging_the_same_rows_twice_is_harmless():
    application = german_draft()
    AccountApplication.objects.filter(pk=application.pk).update(treaty_country="GE")
    flag_existing_rows()
    flag_existing_rows()
    assert application.events.filter(action="data_flagged").count() == 1
