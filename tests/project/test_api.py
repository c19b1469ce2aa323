"""API skeleton: token auth, one error body, the OpenAPI schema."""

import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def assert_error_body(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_token_for_good_credentials_authenticates_api_calls(api):
    user = UserFactory()
    response = api.post(
        "/api/v1/auth/token", {"email": user.email.upper(), "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token.startswith("rt_") and len(token) == 46

    again = api.post(
        "/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert again.json()["token"] != token  # each call issues a token of its own

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == user.email


def test_bad_credentials_error_body(api):
    user = UserFactory()
    response = api.post(
        "/api/v1/auth/token", {"email": user.email, "password": "wrong-one-1"}, format="json"
    )
    body = assert_error_body(response, 400, "invalid_credentials")
    assert body["fields"] == {}


def test_unknown_email_same_error_as_wrong_password(api):
    response = api.post(
        "/api/v1/auth/token", {"email": "nobody@example.com", "password": "x"}, format="json"
    )
    assert_error_body(response, 400, "invalid_credentials")


def test_missing_and_malformed_fields_are_named(api):
    response = api.post("/api/v1/auth/token", {"email": "not-an-email"}, format="json")
    body = assert_error_body(response, 400, "invalid")
    assert body["fields"]["email"]["code"] == "invalid"
    assert body["fields"]["password"]["code"] == "required"
    assert "email" in body["message"] and "password" in body["message"]


def test_malformed_json_is_a_400_not_a_500(api):
    response = api.post("/api/v1/auth/token", "{not json", content_type="application/json")
    assert_error_body(response, 400, "parse_error")


def test_unverified_email_gets_no_token(api):
    user = UserFactory(verified=False)
    response = api.post(
        "/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert_error_body(response, 403, "email_unverified")


def test_token_endpoint_throttled(api, settings):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post(
            "/api/v1/auth/token", {"email": user.email, "password": "wrong-one-1"}, format="json"
        )
    response = api.post(
        "/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert_error_body(response, 429, "too_many_attempts")


def test_unauthenticated_and_bad_token(api):
    assert_error_body(api.get("/api/v1/me"), 401, "not_authenticated")
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert_error_body(api.get("/api/v1/me"), 401, "authentication_failed")


def test_unknown_api_path_and_wrong_method(api):
    assert_error_body(api.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error_body(api.get("/api/v1/auth/token"), 405, "method_not_allowed")


def test_schema_is_valid_openapi_3(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in schema["paths"]


def test_api_docs_page_served_without_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
