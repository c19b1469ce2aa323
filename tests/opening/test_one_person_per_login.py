"""One person per login: the first approved identity binds the login; an application
naming someone else goes to review with the reason; staff see the login's other
applications and accounts, and other logins naming the same person."""

import copy

import pytest
from rest_framework.test import APIClient

from accounts.opening.api import FOREIGN_EXAMPLE, US_EXAMPLE
from accounts.opening.models import AccountApplication
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _auto_approve(settings):
    settings.ACCOUNT_AUTO_APPROVE = True


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def apply_and_submit(api, data):
    created = api.post("/api/v1/applications", data, format="json")
    assert created.status_code == 201, created.json()
    response = api.post(f"/api/v1/applications/{created.json()['id']}/submit")
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_same_person_opens_a_second_account_at_once():
    api = api_for(UserFactory())
    assert apply_and_submit(api, US_EXAMPLE)["status"] == "approved"
    margin = {
        **copy.deepcopy(US_EXAMPLE),
        "account_type": "individual_margin",
        "accept_agreements": [*US_EXAMPLE["accept_agreements"], "margin_agreement"],
    }
    assert apply_and_submit(api, margin)["status"] == "approved"


def test_another_person_on_the_same_login_goes_to_review_with_the_reason(caplog):
    api = api_for(UserFactory())
    first = apply_and_submit(api, US_EXAMPLE)
    assert first["status"] == "approved"
    second = apply_and_submit(api, FOREIGN_EXAMPLE)
    assert second["status"] == "action_required"
    reasons = {r["code"]: r["message"] for r in second["review_reasons"]}
    assert "identity_mismatch" in reasons
    message = reasons["identity_mismatch"]
    assert f"#{first['id']}" in message
    assert "tax id" in message and "date of birth" in message and "name" in message
    assert second["account_number"] is None
    assert any(
        "another identity" in r.getMessage() for r in caplog.records if r.levelname == "WARNING"
    )


def test_another_tax_id_alone_is_another_identity():
    api = api_for(UserFactory())
    apply_and_submit(api, US_EXAMPLE)
    other_ssn = {**copy.deepcopy(US_EXAMPLE), "tax_id": "123-45-6780"}
    second = apply_and_submit(api, other_ssn)
    assert second["status"] == "action_required"
    [reason] = [r for r in second["review_reasons"] if r["code"] == "identity_mismatch"]
    assert "a different tax id" in reason["message"]


def test_before_any_approval_pending_applications_bind_too(settings):
    settings.ACCOUNT_AUTO_APPROVE = False
    api = api_for(UserFactory())
    assert apply_and_submit(api, US_EXAMPLE)["status"] == "submitted"
    second = apply_and_submit(api, FOREIGN_EXAMPLE)
    assert second["status"] == "action_required"
    assert "identity_mismatch" in {r["code"] for r in second["review_reasons"]}


def test_staff_review_shows_other_applications_accounts_and_the_same_person_elsewhere(client):
    user = UserFactory()
    api = api_for(user)
    first = apply_and_submit(api, US_EXAMPLE)
    second = apply_and_submit(api, FOREIGN_EXAMPLE)
    elsewhere = UserFactory(email="twin@example.com")
    apply_and_submit(api_for(elsewhere), FOREIGN_EXAMPLE)

    client.force_login(StaffFactory())
    page = client.get(f"/admin/accounts/accountapplication/{second['id']}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="applicant-history"' in html or "data-testid='applicant-history'" in html
    assert f"#{first['id']}" in html
    assert first["account_number"] in html
    assert "twin@example.com" in html  # the same tax id on another login
    assert "identity_mismatch" in html


@pytest.mark.django_db(transaction=True)
def test_one_person_per_login_concurrency(settings):
    import threading

    from django.db import connection, connections

    from accounts.opening import onboarding

    if connection.vendor != "postgresql":
        pytest.skip("needs row locks (PostgreSQL)")
    user = UserFactory()
    api = api_for(user)
    ids = []
    for data in (US_EXAMPLE, FOREIGN_EXAMPLE):
        ids.append(api.post("/api/v1/applications", data, format="json").json()["id"])
    barrier = threading.Barrier(2)

    def submit(pk):
        try:
            barrier.wait()
            onboarding.submit_application(AccountApplication.objects.get(pk=pk), user)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(AccountApplication.objects.values_list("status", flat=True))
    assert statuses == ["action_required", "approved"]
