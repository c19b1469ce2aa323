"""Account opening through the API and the service functions."""

import copy
from datetime import date

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.opening import onboarding
from accounts.opening.api import FOREIGN_EXAMPLE, US_EXAMPLE
from accounts.opening.models import (
    Account,
    AccountApplication,
    RegisteredState,
    RestrictedJurisdiction,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CANADA = {
    **copy.deepcopy(US_EXAMPLE),
    "given_name": "Chloé",
    "family_name": "Tremblay",
    "citizenship": "CA",
    "tax_residence": "CA",
    "phone": "+1 416 979 2000",
    "street_address": "290 Bremner Blvd",
    "city": "Toronto",
    "state": "ON",
    "postal_code": "m5v3l9",
    "country": "CA",
    "tax_id_type": "passport",
    "tax_id": "AB123456",
    "tax_id_country": "CA",
    "foreign_tax_id": "130 692 544",
    "tax_certification_signature": "Chloé Tremblay",
}


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def apply(api, data):
    response = api.post("/api/v1/applications", data, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def submit(api, application_id):
    return api.post(f"/api/v1/applications/{application_id}/submit")


def errors_of(response):
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    return {name: err["code"] for name, err in body["fields"].items()}


@pytest.mark.parametrize(
    ("data", "state", "postal"),
    [(US_EXAMPLE, "TX", "78701"), (CANADA, "ON", "M5V 3L9"), (FOREIGN_EXAMPLE, "BE", "10117")],
    ids=["texas", "canada", "germany"],
)
def test_applicant_end_to_end_auto_approved(
    api, user, settings, data, state, postal, django_capture_on_commit_callbacks
):
    settings.ACCOUNT_AUTO_APPROVE = True
    created = apply(api, data)
    assert created["status"] == "draft"
    assert created["state"] == state and created["postal_code"] == postal
    assert "tax_id" not in created
    assert created["tax_id_masked"].endswith(data["tax_id"].replace("-", "")[-4:])
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(api, created["id"])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "approved"
    number = body["account_number"]
    assert onboarding.is_valid_account_number(number)

    accounts = api.get("/api/v1/accounts").json()
    assert [a["account_number"] for a in accounts] == [number]
    assert accounts[0]["status"] == "active" and accounts[0]["account_type"] == "individual_cash"
    assert api.get(f"/api/v1/accounts/{number}").status_code == 200
    assert Account.objects.get(account_number=number).holders.get() == user

    assert [m.subject for m in mail.outbox] == ["Your RushTrade application: Approved"]
    assert number in mail.outbox[0].body
    assert data["tax_id"] not in mail.outbox[0].body
    actions = list(AccountApplication.objects.get().events.values_list("action", flat=True))
    assert actions == ["created", "submitted", "approved"]


def test_w8ben_for_foreign_and_w9_for_us(api):
    assert apply(api, FOREIGN_EXAMPLE)["tax_form"] == "w8ben"
    assert apply(api, US_EXAMPLE)["tax_form"] == "w9"


def test_agreements_recorded_with_time_ip_and_version(api):
    created = apply(api, US_EXAMPLE)
    agreements = {a["agreement"]: a for a in created["agreements"]}
    assert set(agreements) == {
        "customer_agreement",
        "self_directed_acknowledgement",
        "esign_consent",
    }
    assert (
        agreements["customer_agreement"]["version"]
        == onboarding.AGREEMENT_VERSIONS["customer_agreement"]
    )
    stored = AccountApplication.objects.get().agreements.first()
    assert stored.ip_address == "127.0.0.1" and stored.accepted_at


def test_margin_account_needs_margin_agreement(api, settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    created = apply(api, {**US_EXAMPLE, "account_type": "individual_margin"})
    response = submit(api, created["id"])
    assert response.status_code == 400
    assert errors_of(response) == {"agreements.margin_agreement": "agreement_required"}
    api.patch(
        f"/api/v1/applications/{created['id']}",
        {"accept_agreements": ["margin_agreement"]},
        format="json",
    )
    assert submit(api, created["id"]).json()["status"] == "approved"


@pytest.mark.parametrize("country", ["CU", "IR", "KP", "SY"])
def test_restricted_country_stopped_at_first_step_naming_it(api, country):
    response = api.post(
        "/api/v1/applications", {"given_name": "Ana", "tax_residence": country}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["fields"]["tax_residence"]["code"] == "restricted_jurisdiction"
    from django_countries import countries

    assert countries.name(country) in body["fields"]["tax_residence"]["message"]
    assert not AccountApplication.objects.exists()


@pytest.mark.parametrize("region", ["UA-43", "UA-14", "UA-09", "UA-40"])
def test_restricted_regions_of_ukraine(api, region):
    created = apply(api, {"given_name": "Olena", "tax_residence": "UA"})
    response = api.patch(
        f"/api/v1/applications/{created['id']}", {"country": "UA", "state": region}, format="json"
    )
    assert errors_of(response) == {"state": "restricted_jurisdiction"}
    ok = api.patch(
        f"/api/v1/applications/{created['id']}", {"country": "UA", "state": "UA-46"}, format="json"
    )
    assert ok.status_code == 200


def test_restricted_list_kept_in_admin_applies_at_once(api):
    assert (
        api.post("/api/v1/applications", {"tax_residence": "BY"}, format="json").status_code == 201
    )
    RestrictedJurisdiction.objects.create(country="BY", name="Belarus", reason="Test listing")
    response = api.post("/api/v1/applications", {"tax_residence": "BY"}, format="json")
    assert errors_of(response) == {"tax_residence": "restricted_jurisdiction"}


def test_seeded_states_and_restrictions():
    assert RegisteredState.objects.count() == 51
    assert RegisteredState.objects.get(code="DC").registered
    assert RegisteredState.objects.get(code="MS").age_of_majority == 21
    assert set(RestrictedJurisdiction.objects.values_list("country", flat=True)) == {
        "CU",
        "IR",
        "KP",
        "SY",
        "UA",
    }


BAD_VALUES = [
    ({"country": "US", "postal_code": "7870"}, "postal_code", "invalid_postal_code"),
    ({"country": "CA", "postal_code": "D5V 3L9"}, "postal_code", "invalid_postal_code"),
    ({"country": "DE", "postal_code": "1011"}, "postal_code", "invalid_postal_code"),
    ({"country": "US", "state": "ZZ"}, "state", "invalid_region"),
    ({"country": "US", "state": "PR"}, "state", "invalid_region"),
    ({"country": "CA", "state": "TX"}, "state", "invalid_region"),
    ({"country": "US", "street_address": "P.O. Box 123"}, "street_address", "po_box_not_allowed"),
    ({"phone": "12345"}, "phone", "invalid_phone"),
    ({"phone": "+1 000 000 0000"}, "phone", "invalid_phone"),
    ({"citizenship": "US", "tax_id_type": "ssn", "tax_id": "078-05-1120"}, "tax_id", "invalid_ssn"),
    ({"citizenship": "US", "tax_id_type": "ssn", "tax_id": "12345"}, "tax_id", "invalid_ssn"),
    (
        {"citizenship": "US", "tax_id_type": "itin", "tax_id": "123-45-6789"},
        "tax_id",
        "invalid_itin",
    ),
    (
        {"citizenship": "US", "tax_id_type": "passport", "tax_id": "X1234567"},
        "tax_id_type",
        "us_person_needs_ssn_or_itin",
    ),
    (
        {"citizenship": "DE", "tax_residence": "DE", "tax_id_type": "ssn", "tax_id": "123-45-6789"},
        "tax_id_type",
        "foreign_person_needs_document",
    ),
    (
        {"citizenship": "DE", "tax_id_type": "passport", "tax_id": "12"},
        "tax_id",
        "invalid_document_number",
    ),
    (
        {"tax_residence": "CA", "foreign_tax_id": "123 456 789"},
        "foreign_tax_id",
        "invalid_foreign_tax_id",
    ),
    ({"date_of_birth": "2099-01-01"}, "date_of_birth", "date_in_future"),
    ({"date_of_birth": "1890-01-01"}, "date_of_birth", "implausible_date"),
    ({"date_of_birth": "not a date"}, "date_of_birth", "invalid"),
    ({"given_name": "R2D2"}, "given_name", "invalid_name"),
    ({"account_type": "roth_ira"}, "account_type", "account_type_unavailable"),
    ({"account_type": "yacht"}, "account_type", "invalid_choice"),
    ({"country": "XX"}, "country", "invalid_choice"),
    ({"email": "nope"}, "email", "invalid"),
    ({"accept_agreements": ["something_else"]}, "accept_agreements.0", "invalid_choice"),
    ({"status": "approved", "tax_id_last4": "1234"}, None, None),
]


@pytest.mark.parametrize(
    ("data", "field", "code"), BAD_VALUES, ids=[f"{f or 'readonly'}-{c}" for _, f, c in BAD_VALUES]
)
def test_bad_values_named_and_nothing_written(api, data, field, code):
    created = apply(api, {"given_name": "Sam"})
    response = api.patch(f"/api/v1/applications/{created['id']}", data, format="json")
    if field is None:  # read-only fields are ignored, never written
        assert response.status_code == 200
        assert response.json()["status"] == "draft"
        assert AccountApplication.objects.get().tax_id_last4 == ""
        return
    assert response.status_code == 400, response.json()
    assert errors_of(response)[field] == code
    assert response.json()["fields"][field]["message"]
    after = api.get(f"/api/v1/applications/{created['id']}").json()
    assert after == created


@pytest.mark.parametrize(
    ("state", "age", "ok"),
    [
        ("TX", 18, True),
        ("TX", 17, False),
        ("AL", 18, False),
        ("AL", 19, True),
        ("NE", 18, False),
        ("MS", 20, False),
        ("MS", 21, True),
    ],
)
def test_age_of_majority_by_state(api, state, age, ok):
    today = date.today()
    born = today.replace(year=today.year - age)
    if born.month == 2 and born.day == 29:  # pragma: no cover
        born = born.replace(day=28)
    response = api.post(
        "/api/v1/applications",
        {"country": "US", "state": state, "date_of_birth": born.isoformat()},
        format="json",
    )
    if ok:
        assert response.status_code == 201, response.json()
    else:
        assert errors_of(response) == {"date_of_birth": "under_age"}
        assert (
            f"at least {max(18, {'AL': 19, 'NE': 19, 'MS': 21}.get(state, 18))}"
            in (response.json()["fields"]["date_of_birth"]["message"])
        )


def test_moving_to_a_stricter_state_rechecks_age(api):
    today = date.today()
    created = apply(
        api,
        {
            "country": "US",
            "state": "TX",
            "date_of_birth": today.replace(year=today.year - 19, day=1).isoformat(),
        },
    )
    response = api.patch(f"/api/v1/applications/{created['id']}", {"state": "MS"}, format="json")
    assert errors_of(response) == {"date_of_birth": "under_age"}


def test_incomplete_application_cannot_be_submitted(api):
    created = apply(api, {"given_name": "Sam", "country": "US"})
    response = submit(api, created["id"])
    assert response.status_code == 400
    missing = errors_of(response)
    assert "family_name" not in missing  # pre-filled from the user's profile
    assert missing["date_of_birth"] == "required"
    assert missing["state"] == "required"
    assert missing["postal_code"] == "required"
    assert missing["tax_id"] == "required"
    assert missing["agreements.customer_agreement"] == "agreement_required"
    assert AccountApplication.objects.get().status == "draft"


def test_signature_must_match_legal_name(api):
    created = apply(api, {**US_EXAMPLE, "tax_certification_signature": "Someone Else"})
    assert errors_of(submit(api, created["id"])) == {
        "tax_certification_signature": "signature_mismatch"
    }


def test_trusted_contact_needed_unless_declined(api):
    created = apply(api, {**US_EXAMPLE, "trusted_contact_declined": False})
    missing = errors_of(submit(api, created["id"]))
    assert missing == {"trusted_contact_name": "required", "trusted_contact_phone": "required"}


def test_without_auto_approval_a_clean_application_waits_for_staff(api, settings):
    settings.ACCOUNT_AUTO_APPROVE = False
    created = apply(api, US_EXAMPLE)
    body = submit(api, created["id"]).json()
    assert body["status"] == "submitted" and body["account_number"] is None
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    ("flag", "code"),
    [
        (
            {"is_affiliated_with_broker": True, "affiliated_firm": "Big Street Securities"},
            "broker_dealer_affiliation",
        ),
        ({"is_control_person": True, "control_person_companies": "ACME Corp"}, "control_person"),
        (
            {"is_politically_exposed": True, "politically_exposed_details": "Mayor"},
            "politically_exposed_person",
        ),
    ],
)
def test_disclosures_flag_for_review(api, settings, flag, code):
    settings.ACCOUNT_AUTO_APPROVE = True
    created = apply(api, {**US_EXAMPLE, **flag})
    body = submit(api, created["id"]).json()
    assert body["status"] == "action_required"
    assert [r["code"] for r in body["review_reasons"]] == [code]
    assert not Account.objects.exists()


def test_same_ssn_as_another_customer_is_flagged(api, settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    other = APIClient()
    other.force_authenticate(UserFactory())
    other_app = apply(other, US_EXAMPLE)
    assert submit(other, other_app["id"]).json()["status"] == "approved"

    created = apply(api, {**US_EXAMPLE, "tax_id": "123456789"})
    body = submit(api, created["id"]).json()
    assert body["status"] == "action_required"
    assert [r["code"] for r in body["review_reasons"]] == ["duplicate_tax_id"]


def test_unregistered_state_and_restricted_citizenship_flag(api, settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    RegisteredState.objects.filter(code="TX").update(registered=False)
    created = apply(api, {**US_EXAMPLE})
    assert [r["code"] for r in submit(api, created["id"]).json()["review_reasons"]] == [
        "state_not_registered"
    ]


def test_action_required_fixed_and_resubmitted(api, settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    created = apply(
        api, {**US_EXAMPLE, "is_politically_exposed": True, "politically_exposed_details": "Mayor"}
    )
    assert submit(api, created["id"]).json()["status"] == "action_required"
    fixed = api.patch(
        f"/api/v1/applications/{created['id']}", {"is_politically_exposed": False}, format="json"
    )
    assert fixed.status_code == 200
    assert submit(api, created["id"]).json()["status"] == "approved"


def test_submitted_application_is_not_editable(api, settings):
    settings.ACCOUNT_AUTO_APPROVE = False
    created = apply(api, US_EXAMPLE)
    submit(api, created["id"])
    response = api.patch(f"/api/v1/applications/{created['id']}", {"city": "Dallas"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_editable"
    assert submit(api, created["id"]).status_code == 409


def test_applicant_cannot_read_or_change_another_application(api):
    other = APIClient()
    other.force_authenticate(UserFactory())
    theirs = apply(other, US_EXAMPLE)
    mine = apply(api, {"given_name": "Sam"})
    assert [a["id"] for a in api.get("/api/v1/applications").json()] == [mine["id"]]
    assert api.get(f"/api/v1/applications/{theirs['id']}").status_code == 404
    assert (
        api.patch(f"/api/v1/applications/{theirs['id']}", {"city": "X"}, format="json").status_code
        == 404
    )
    assert submit(api, theirs["id"]).status_code == 404
    assert AccountApplication.objects.get(pk=theirs["id"]).city == "Austin"


def test_account_of_another_customer_is_invisible(api, settings):
    settings.ACCOUNT_AUTO_APPROVE = True
    other = APIClient()
    other.force_authenticate(UserFactory())
    number = submit(other, apply(other, US_EXAMPLE)["id"]).json()["account_number"]
    assert api.get("/api/v1/accounts").json() == []
    assert api.get(f"/api/v1/accounts/{number}").status_code == 404


def test_tax_id_encrypted_at_rest_and_masked_in_api(api):
    from django.db import connection

    created = apply(api, US_EXAMPLE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tax_id FROM accounts_accountapplication WHERE id = %s", [created["id"]]
        )
        raw = cursor.fetchone()[0]
    assert "123456789" not in raw and "6789" not in raw
    assert AccountApplication.objects.get().tax_id == "123456789"
    for response in (
        api.get("/api/v1/applications"),
        api.get(f"/api/v1/applications/{created['id']}"),
    ):
        text = response.content.decode()
        assert "123456789" not in text and "123-45-6789" not in text
        assert "•••••6789" in text


def test_unauthenticated_gets_401():
    client = APIClient()
    assert client.get("/api/v1/applications").status_code == 401
    assert client.post("/api/v1/applications", {}, format="json").status_code == 401
