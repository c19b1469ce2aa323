"""No 500 on any input: JSON too large or too deep is a 400 naming the problem; dates
outside 1900-2199 are refused naming the parameter; a NUL character in a query string or
a JSON string is a 400."""

import logging

import pytest
from rest_framework.test import APIClient

from accounts.api_keys import keys
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def v2():
    account = AccountFactory()
    key, secret = keys.create_api_key(account, account.holders.get())
    api = APIClient()
    api.credentials(HTTP_APCA_API_KEY_ID=key.key_id, HTTP_APCA_API_SECRET_KEY=secret)
    return api


def test_deep_json_on_the_unauthenticated_token_endpoint_is_a_400(caplog):
    body = "[" * 5000 + "]" * 5000
    with caplog.at_level(logging.WARNING):
        response = APIClient().post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "body_too_deep"
    assert "32 levels" in response.json()["message"]
    assert any("deeper" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_json_just_deep_enough_is_parsed_and_one_more_level_refused(settings):
    api = APIClient()
    api.force_authenticate(UserFactory())
    ok = '{"given_name": "Sam", "x": ' + "[" * 30 + "]" * 30 + "}"
    assert api.post("/api/v1/applications", ok, content_type="application/json").status_code == 201
    deep = '{"given_name": "Sam", "x": ' + "[" * 32 + "]" * 32 + "}"
    response = api.post("/api/v1/applications", deep, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "body_too_deep"


def test_large_json_is_a_400(settings):
    settings.API_MAX_JSON_BYTES = 10_000
    body = '{"email": "a@example.com", "password": "' + "x" * 20_000 + '"}'
    response = APIClient().post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "body_too_large"


def test_deep_json_on_v2_is_alpacas_malformed_request(v2):
    response = v2.post("/v2/orders", "[" * 5000 + "]" * 5000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == 40010000
    assert "levels" in response.json()["message"]


@pytest.mark.parametrize("year", ["0001", "9999"])
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v2/stocks/bars?symbols=ACME&timeframe=1Day&start={y}-01-01T00:00:00Z", "start"),
        ("/v2/stocks/bars?symbols=ACME&timeframe=1Day&end={y}-12-31T00:00:00Z", "end"),
        ("/v2/account/activities?date={y}-12-31", "date"),
        ("/v2/account/activities?after={y}-01-01T00:00:00Z", "after"),
        ("/v2/account/activities?until={y}-12-31T00:00:00Z", "until"),
        ("/v2/account/portfolio/history?date_end={y}-12-31", "date_end"),
        ("/v2/account/portfolio/history?start={y}-01-01T00:00:00Z", "start"),
        ("/v2/account/portfolio/history?end={y}-12-31T00:00:00Z", "end"),
        ("/v2/calendar?start={y}-01-01", "start"),
        ("/v2/orders?status=all&after={y}-01-01T00:00:00Z", "after"),
    ],
)
def test_v2_dates_out_of_range_are_422_naming_the_parameter(v2, path, param, year):
    response = v2.get(path.format(y=year))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == 40010001
    assert body["message"].startswith(f"{param} must be between")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("date=2024-01-31garbage", "date"),
        ("date=2024-01-31T25:00:00Z", "date"),
        ("date=2024-1-31", "date"),
    ],
)
def test_v2_dates_with_trailing_text_are_422_naming_the_parameter(v2, query, param):
    response = v2.get(f"/v2/account/activities?{query}")
    assert response.status_code == 422, response.content
    assert response.json()["message"].startswith(f"{param} must be a date")


def test_v2_date_may_be_a_date_or_a_time(v2):
    for value in ("2024-01-31", "2024-01-31T10:00:00Z", "2024-01-31T10:00:00-05:00"):
        assert v2.get(f"/v2/account/activities?date={value}").status_code == 200


# A NUL character: PostgreSQL's text cannot hold one (schemathesis found the 500s).


@pytest.mark.parametrize(
    "path",
    [
        "/v2/watchlists:by_name?name=a%00b",
        "/v2/orders:by_client_order_id?client_order_id=%00",
        "/v2/assets?exchange=NY%00SE",
    ],
)
def test_a_nul_in_a_v2_query_is_alpacas_400(v2, path, caplog):
    with caplog.at_level(logging.WARNING):
        response = v2.get(path)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == 40010000 and response.json()["message"]
    assert any("NUL" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_a_nul_in_an_api_query_is_the_apis_400():
    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.get("/api/v1/quotes?symbols=AC%00ME")
    assert response.status_code == 400 and response.json()["code"] == "bad_request"


def test_a_nul_in_a_page_query_is_a_400_page(client):
    client.force_login(UserFactory())
    response = client.get("/?q=%00")
    assert response.status_code == 400 and b"<html" in response.content.lower()


def test_a_query_without_nul_is_untouched(v2):
    assert v2.get("/v2/watchlists:by_name?name=Main%20list").status_code == 404


@pytest.mark.parametrize(
    "body",
    ['{"name": "a\\u0000b"}', '{"name": "x", "symbols": ["AC\\u0000ME"]}', '{"a\\u0000": 1}'],
)
def test_a_nul_in_a_json_string_is_a_400(v2, body):
    response = v2.post("/v2/watchlists", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == 40010000 and "NUL" in response.json()["message"]
