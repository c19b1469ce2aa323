"""Alpaca's JSON error body on every /v2 path: unknown routes, wrong methods, bodies too
large for Django, unexpected errors, with DEBUG on or off; never an HTML page."""

import json

import pytest
from rest_framework.test import APIClient

from trading.alpaca import market

from .test_alpaca_api import client_for

pytestmark = pytest.mark.django_db

UNKNOWN = ["/v2/nope", "/v2/account/nope", "/v2/orders/", "/v2/", "/v2/stocks/AAPL/nope/deeper"]


def alpaca_body(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    data = json.loads(response.content)
    assert set(data) >= {"code", "message"} and isinstance(data["code"], int)
    # Alpaca sends "invalid parameter" (40010001) with 422 as often as with 400.
    assert data["code"] // 100000 == response.status_code or data["code"] == 40010001
    return data


@pytest.fixture
def account():
    from tests.factories import AccountFactory

    return AccountFactory()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", UNKNOWN)
def test_unknown_routes_answer_alpacas_404(settings, account, path, debug):
    settings.DEBUG = debug
    for client in (APIClient(), client_for(account)):
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)(path)
            assert response.status_code == 404, (method, path)
            assert alpaca_body(response) == {"code": 40410000, "message": "endpoint not found"}


def test_v2_without_a_slash_redirects_to_the_json_404(client):
    response = client.get("/v2", follow=True)
    assert response.status_code == 404 and alpaca_body(response)["code"] == 40410000


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v2/account"),
        ("put", "/v2/clock"),
        ("patch", "/v2/positions"),
        ("put", "/v2/orders"),
        ("post", "/v2/stocks/bars"),
    ],
)
def test_wrong_methods_answer_405_with_allow(settings, account, method, path, debug):
    settings.DEBUG = debug
    response = getattr(client_for(account), method)(path, {}, format="json")
    assert response.status_code == 405
    assert alpaca_body(response)["code"] == 40510000
    assert method.upper() not in response["Allow"] and "GET" in response["Allow"]


def test_unauthenticated_known_route_is_401_json(client):
    response = client.get("/v2/account")
    assert response.status_code == 401
    assert alpaca_body(response) == {"code": 40110000, "message": "request is not authorized"}


@pytest.mark.parametrize("debug", [False, True])
def test_a_body_too_large_for_django_is_400_json(settings, account, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_for(account).generic(
        "POST", "/v2/orders", "x" * 5000, content_type="application/json"
    )
    assert response.status_code == 400
    assert alpaca_body(response)["code"] == 40010000


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_500_json_and_logged(settings, account, monkeypatch, caplog, debug):
    settings.DEBUG = debug

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(market, "clock", broken)
    api = client_for(account)
    api.raise_request_exception = False
    response = api.get("/v2/clock")
    assert response.status_code == 500
    assert alpaca_body(response)["code"] == 50010000
    assert "boom" not in response.content.decode()
    assert any("boom" in str(r.exc_info) for r in caplog.records if r.exc_info)


def test_pages_outside_v2_keep_their_html(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "text/html" in response["Content-Type"]


@pytest.mark.django_db(transaction=True)
def test_the_sdk_gets_alpacas_error_not_html(live_server, monkeypatch):
    """alpaca-py turns the body into APIError.code and .message; an HTML page would be
    a blob in the message and no code."""
    from alpaca.common.exceptions import APIError
    from alpaca.trading.client import TradingClient
    from django.db import connections

    from accounts.api_keys import keys
    from tests.factories import AccountFactory

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    key, secret = keys.create_api_key(AccountFactory(), None)
    trading = TradingClient(key.key_id, secret, paper=True, url_override=live_server.url)
    for method, path in (("get", "/no/such/route"), ("delete", "/clock"), ("post", "/account")):
        with pytest.raises(APIError) as refused:
            getattr(trading, method)(path)
        assert refused.value.status_code in (404, 405)
        assert refused.value.code == refused.value.status_code * 100000 + 10000
        assert "<" not in refused.value.message
