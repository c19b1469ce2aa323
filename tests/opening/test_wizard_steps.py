"""The wizard guides (issue 15, points 7, 8 and 9): a step is complete before it moves
on, fields appear only where they apply (and are ignored otherwise, without JavaScript
too), only the account types that can be opened are offered, the US state is a list,
Review summarises everything, the agreements can be read and their versions are kept,
a draft can be discarded, approval leads to funding and a compliance hold says so."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.opening import onboarding
from accounts.opening.models import AccountApplication, ApplicationStatus
from tests.factories import UserFactory
from tests.opening.test_onboarding_pages import TEXAS_STEPS

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant(client):
    user = UserFactory(first_name="Taylor", last_name="Rivera")
    client.force_login(user)
    client.user = user
    return client


def start(client) -> AccountApplication:
    client.post(reverse("application-start"))
    return AccountApplication.objects.filter(applicant=client.user).latest("created_at")


def url(application, step):
    return reverse("application-step", args=[application.pk, step])


def post_steps(client, application, steps):
    for step, data in steps.items():
        response = client.post(url(application, step), data)
        assert response.status_code == 302, (step, response.context["form"].errors)


def hidden_rows(html: str) -> set[str]:
    """The names of the fields rendered inside a hidden conditional wrapper."""
    names = set()
    for block in re.findall(
        r"<div data-show-when=\"[^\"]*\" hidden>(.*?)</div>\s*</div>", html, re.S
    ):
        names.update(re.findall(r'name="([a-z_]+)"', block))
    return names


def test_a_step_missing_what_it_needs_stays_but_is_saved(applicant):
    application = start(applicant)
    response = applicant.post(
        url(application, "identity"),
        {"given_name": "Taylor", "family_name": "Rivera", "phone": "+1 512 867 5309"},
    )
    assert response.status_code == 200  # not moved on
    errors = response.context["form"].errors
    for needed in ("date_of_birth", "citizenship", "tax_residence"):
        assert errors[needed] == ["This field is required."], needed
    assert "Saved as a draft" in response.content.decode()
    application.refresh_from_db()
    assert application.phone == "+15128675309"  # the draft keeps what was given


def test_an_empty_step_does_not_move_on(applicant):
    application = start(applicant)
    response = applicant.post(url(application, "profile"), {})
    assert response.status_code == 200
    assert "employment_status" in response.context["form"].errors
    response = applicant.post(url(application, "disclosures"), {})
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"is_control_person", "is_politically_exposed"}


def test_joint_and_ira_are_not_offered(applicant):
    application = start(applicant)
    html = applicant.get(url(application, "account-type")).content.decode()
    assert 'value="individual_cash"' in html and 'value="individual_margin"' in html
    for refused in ("joint", "traditional_ira", "roth_ira"):
        assert f'value="{refused}"' not in html


def test_a_us_citizen_sees_no_passport_or_foreign_tax_fields(applicant):
    application = start(applicant)
    post_steps(applicant, application, {"identity": TEXAS_STEPS["identity"]})
    html = applicant.get(url(application, "tax-id")).content.decode()
    assert 'name="foreign_tax_id"' not in html and 'name="tax_id_country"' not in html
    assert 'value="passport"' not in html and 'value="national_id"' not in html
    assert 'value="ssn"' in html and 'value="itin"' in html


def test_becoming_a_us_person_drops_the_foreign_tax_answers(applicant):
    application = start(applicant)
    german = {
        **TEXAS_STEPS["identity"],
        "citizenship": "DE",
        "tax_residence": "DE",
        "phone": "+49 30 1234567",
    }
    post_steps(applicant, application, {"identity": german})
    document = {
        "tax_id_type": "passport",
        "tax_id": "C01X00T47",
        "tax_id_country": "DE",
        "foreign_tax_id": "36574261809",
    }
    post_steps(applicant, application, {"tax-id": document})
    application.refresh_from_db()
    assert application.foreign_tax_id_last4 == "1809"
    applicant.post(url(application, "identity"), TEXAS_STEPS["identity"])  # now a US citizen
    post_steps(applicant, application, {"tax-id": TEXAS_STEPS["tax-id"]})
    application.refresh_from_db()
    assert (application.tax_id_type, application.tax_id_last4) == ("ssn", "9998")
    assert (
        application.tax_id_country,
        application.foreign_tax_id,
        application.foreign_tax_id_last4,
    ) == ("", "", "")


def test_a_german_sees_the_document_and_foreign_tax_fields(applicant):
    application = start(applicant)
    identity = {
        **TEXAS_STEPS["identity"],
        "citizenship": "DE",
        "tax_residence": "DE",
        "phone": "+49 30 1234567",
    }
    post_steps(applicant, application, {"identity": identity})
    html = applicant.get(url(application, "tax-id")).content.decode()
    assert 'name="foreign_tax_id"' in html and 'name="tax_id_country"' in html
    assert 'value="ssn"' not in html and 'value="passport"' in html


def test_mailing_fields_hidden_while_same_address_and_ignored_by_the_server(applicant):
    application = start(applicant)
    html = applicant.get(url(application, "address")).content.decode()
    assert {"mailing_street_address", "mailing_city", "mailing_country"} <= hidden_rows(html)
    # Sent anyway (no JavaScript, or typed before ticking the box): not saved.
    address = {
        **TEXAS_STEPS["address"],
        "mailing_street_address": "PO Box 12",
        "mailing_city": "Dallas",
        "mailing_country": "US",
    }
    post_steps(applicant, application, {"address": address})
    application.refresh_from_db()
    assert application.mailing_same_as_residential is True
    assert (application.mailing_street_address, application.mailing_city) == ("", "")
    # Unticked without a mailing address: the step asks for it and shows its fields.
    different = {
        k: v for k, v in TEXAS_STEPS["address"].items() if k != "mailing_same_as_residential"
    }
    response = applicant.post(url(application, "address"), different)
    assert response.status_code == 200
    assert "mailing_street_address" in response.context["form"].errors
    assert "mailing_street_address" not in hidden_rows(response.content.decode())


def test_the_us_state_is_a_list_of_states_and_countries_are_lists(applicant):
    application = start(applicant)
    html = applicant.get(url(application, "address")).content.decode()
    select = re.search(r'<select name="us_state".*?</select>', html, re.S).group(0)
    assert '<option value="OH">Ohio</option>' in select and '<option value="DC">' in select
    for country in ("country", "mailing_country"):
        assert f'<select name="{country}"' in html
    identity = applicant.get(url(application, "identity")).content.decode()
    assert '<select name="citizenship"' in identity and '<select name="tax_residence"' in identity
    address = {
        **TEXAS_STEPS["address"],
        "us_state": "OH",
        "city": "Columbus",
        "postal_code": "43215",
    }
    post_steps(applicant, application, {"address": address})
    application.refresh_from_db()
    assert application.state == "OH"


def test_review_summarises_the_application_with_links_to_each_step(applicant):
    application = start(applicant)
    steps = {k: v for k, v in TEXAS_STEPS.items() if k != "review"}
    post_steps(applicant, application, steps)
    response = applicant.get(url(application, "review"))
    html = response.content.decode()
    summary = html[html.index('data-testid="summary"') :]
    for shown in (
        "Individual cash",
        "Taylor",
        "April 12, 1988",
        "1100 Congress Ave",
        "Texas (TX)",
        "•••••9998",
        "Lone Star Robotics",
        "$100,000 – $250,000",
    ):
        assert shown in summary, shown
    assert "219-09-9998" not in html
    for step in (
        "account-type",
        "identity",
        "address",
        "tax-id",
        "profile",
        "disclosures",
        "trusted-contact",
    ):
        assert f'href="{url(application, step)}"' in summary, step


def test_review_names_what_is_still_missing(applicant):
    application = start(applicant)
    html = applicant.get(url(application, "review")).content.decode()
    assert 'data-testid="summary-missing"' in html and "Date of birth" in html


def test_agreements_are_readable_pages_with_versions(client):
    page = client.get(reverse("agreement", args=["customer_agreement"]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Customer agreement" in text and "Version 2026-01" in text and "arbitration" in text
    for name in ("self_directed_acknowledgement", "margin_agreement", "esign_consent"):
        assert client.get(reverse("agreement", args=[name])).status_code == 200
    assert (
        client.get(reverse("agreement-version", args=["customer_agreement", "2026-01"])).status_code
        == 200
    )
    assert (
        client.get(reverse("agreement-version", args=["customer_agreement", "1999-01"])).status_code
        == 404
    )
    assert client.get(reverse("agreement", args=["no_such_thing"])).status_code == 404


def test_review_links_each_agreement_and_submission_records_its_version(
    applicant, settings, django_capture_on_commit_callbacks
):
    settings.ACCOUNT_AUTO_APPROVE = True
    application = start(applicant)
    steps = {k: v for k, v in TEXAS_STEPS.items() if k != "review"}
    post_steps(applicant, application, steps)
    html = applicant.get(url(application, "review")).content.decode()
    for name in ("customer_agreement", "self_directed_acknowledgement", "esign_consent"):
        assert f'href="{reverse("agreement", args=[name])}"' in html
    assert "margin_agreement" not in html  # a cash account
    with django_capture_on_commit_callbacks(execute=True):
        post_steps(applicant, application, {"review": TEXAS_STEPS["review"]})
    application.refresh_from_db()
    assert application.agreement_versions == {
        "customer_agreement": "2026-01",
        "self_directed_acknowledgement": "2026-01",
        "esign_consent": "2026-01",
    }
    detail = applicant.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert reverse("agreement-version", args=["customer_agreement", "2026-01"]) in detail
    api = applicant.get(f"/api/v1/applications/{application.pk}").json()
    assert api["agreement_versions"] == application.agreement_versions


# --- Point 8: dead ends ---------------------------------------------------------------------


def test_approved_application_offers_the_way_to_fund(
    applicant, settings, django_capture_on_commit_callbacks
):
    settings.ACCOUNT_AUTO_APPROVE = True
    application = start(applicant)
    with django_capture_on_commit_callbacks(execute=True):
        post_steps(applicant, application, TEXAS_STEPS)
    application.refresh_from_db()
    number = application.account.account_number
    html = applicant.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert 'data-testid="fund-step"' in html
    assert f'href="{reverse("account-transfers", args=[number])}"' in html
    assert f"/account/{number}/transfers/" in mail.outbox[-1].body


def test_a_refused_draft_can_be_discarded(applicant):
    application = start(applicant)
    refused = applicant.post(
        url(application, "identity"), {**TEXAS_STEPS["identity"], "tax_residence": "CU"}
    )
    assert (
        "We cannot open accounts for residents of Cuba"
        in refused.context["form"].errors["tax_residence"][0]
    )
    assert 'data-testid="discard"' in refused.content.decode()
    confirm = applicant.get(reverse("application-withdraw", args=[application.pk]))
    assert confirm.status_code == 200 and "Discard it" in confirm.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT  # asking changes nothing
    response = applicant.post(reverse("application-withdraw", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert application.events.filter(action="withdrawn", actor=applicant.user).exists()
    home = applicant.get("/").content.decode()
    assert reverse("application-detail", args=[application.pk]) not in home
    # Withdrawn is final: no more changes, no second withdrawal.
    assert applicant.get(url(application, "identity")).status_code == 302
    with pytest.raises(onboarding.ApplicationError):
        onboarding.withdraw_application(application, applicant.user)


def test_nobody_discards_another_customers_application(applicant):
    theirs = onboarding.start_application(UserFactory())
    assert applicant.post(reverse("application-withdraw", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ApplicationStatus.DRAFT


def test_home_tells_applications_apart(applicant, settings, django_capture_on_commit_callbacks):
    settings.ACCOUNT_AUTO_APPROVE = True
    drafts = [start(applicant) for _ in range(2)]
    approved = start(applicant)
    with django_capture_on_commit_callbacks(execute=True):
        post_steps(applicant, approved, TEXAS_STEPS)
    approved.refresh_from_db()
    html = applicant.get("/").content.decode()
    lines = re.findall(r'data-testid="application-line">(.*?)</li>', html, re.S)
    texts = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", line)).strip() for line in lines]
    assert len(texts) == 3 and len(set(texts)) == 3, texts
    for draft in drafts:
        assert any(f"No. {draft.pk}" in text for text in texts)
    assert any(approved.account.account_number in text for text in texts)
    # A draft in progress is offered before a new one.
    continue_link = (
        f'href="{reverse("application-detail", args=[drafts[-1].pk])}" data-testid="continue-draft"'
    )
    assert continue_link in html


# --- Point 9: a politically exposed applicant waits on compliance ----------------------------


def test_politically_exposed_applicant_is_told_it_waits_on_compliance(
    applicant, settings, django_capture_on_commit_callbacks
):
    settings.ACCOUNT_AUTO_APPROVE = True
    application = start(applicant)
    steps = {
        **TEXAS_STEPS,
        "disclosures": {
            "is_control_person": "false",
            "is_affiliated_with_broker": "false",
            "is_politically_exposed": "true",
            "politically_exposed_details": "Mayor of Austin",
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        post_steps(applicant, application, steps)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTION_REQUIRED
    html = applicant.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert "compliance team" in html and 'data-testid="awaiting-review"' in html
    assert "submit again" not in html.lower() and "resubmit" not in html.lower()
    assert "needs attention" not in html  # nor in the message after submitting
    body = mail.outbox[-1].body
    assert "compliance team is reviewing" in body and "submit it again" not in body
    # When staff ask for something, the applicant is asked to act.
    onboarding.request_information(application, UserFactory(is_staff=True), "Send your ID.")
    html = applicant.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert "Review and submit again" in html and "Send your ID." in html


def test_application_email_uses_an_before_a_vowel(
    applicant, settings, django_capture_on_commit_callbacks
):
    settings.ACCOUNT_AUTO_APPROVE = True
    application = start(applicant)
    with django_capture_on_commit_callbacks(execute=True):
        post_steps(applicant, application, TEXAS_STEPS)
    assert "application for an individual cash account" in mail.outbox[-1].body
    assert "a individual" not in mail.outbox[-1].body


def test_continue_picks_the_draft_up_at_its_first_incomplete_step(applicant):
    application = start(applicant)
    post_steps(applicant, application, {"account-type": TEXAS_STEPS["account-type"]})
    detail = reverse("application-detail", args=[application.pk])
    assert (
        f'href="{url(application, "identity")}">Continue' in applicant.get(detail).content.decode()
    )
    steps = {k: v for k, v in TEXAS_STEPS.items() if k not in ("account-type", "review")}
    post_steps(applicant, application, steps)
    assert f'href="{url(application, "review")}">Continue' in applicant.get(detail).content.decode()
