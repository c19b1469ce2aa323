"""GET/PATCH /v2/account/configurations and /v2/watchlists over HTTP: Alpaca's
documented fields, the settings that are enforced (suspend_trade blocks new orders on
every channel), refusals with Alpaca's bodies, and watchlists that are the customer's
own, ordered, and capped."""

import uuid

import pytest
from django.db import connection

from accounts.opening.models import AccountType
from rushtrade.errors import ServiceError
from tests.factories import AccountFactory, fund
from trading.market import watchlist
from trading.market.models import Security, Watchlist, WatchlistItem
from trading.orders.models import Order

from . import alpaca_entities
from .test_alpaca_api import D, buy, client_for
from .test_alpaca_errors import alpaca_body

pytestmark = pytest.mark.django_db

# Alpaca's documented fields (tests/alpaca/alpaca_entities.py, from alpaca-docs).
CONFIGURATION_FIELDS = set(alpaca_entities.ACCOUNT_CONFIGURATIONS)
WATCHLIST_FIELDS = set(alpaca_entities.WATCHLIST)
ASSET_FIELDS = set(alpaca_entities.ASSET)


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("10000.00"))
    return account


@pytest.fixture
def api(account):
    return client_for(account)


@pytest.fixture
def listed(market):
    for symbol in ("ACME", "SPY", "QQQ", "TLT"):
        market.last[symbol] = D("100.00")
        Security.objects.create(
            symbol=symbol, name=f"{symbol} Inc.", exchange="ARCA", reference_price=D("100")
        )


# --- Configurations -------------------------------------------------------------------------


def test_configurations_have_alpacas_fields_and_defaults(api, account):
    data = api.get("/v2/account/configurations").json()
    assert set(data) >= CONFIGURATION_FIELDS
    assert data == {
        "dtbp_check": "entry",
        "trade_confirm_email": "all",
        "suspend_trade": False,
        "no_shorting": True,
        "fractional_trading": False,
        "max_margin_multiplier": "1",
        "pdt_check": "entry",
        "ptp_no_exception_entry": False,
        "max_options_trading_level": 0,
    }
    margin = AccountFactory(account_type=AccountType.INDIVIDUAL_MARGIN)
    assert (
        client_for(margin).get("/v2/account/configurations").json()["max_margin_multiplier"] == "2"
    )


def test_patch_changes_only_what_is_named(api):
    changed = api.patch(
        "/v2/account/configurations",
        {"dtbp_check": "both", "trade_confirm_email": "none", "pdt_check": None},
        format="json",
    )
    assert changed.status_code == 200
    assert (changed.json()["dtbp_check"], changed.json()["trade_confirm_email"]) == ("both", "none")
    assert changed.json()["pdt_check"] == "entry"
    again = api.get("/v2/account/configurations").json()
    assert again["dtbp_check"] == "both" and again["suspend_trade"] is False


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"dtbp_check": "sometimes"}, 400, 40010001),
        ({"pdt_check": 1}, 400, 40010001),
        ({"trade_confirm_email": "some"}, 400, 40010001),
        ({"suspend_trade": "yes"}, 400, 40010001),
        ({"colour": "blue"}, 400, 40010001),
        ({"no_shorting": False}, 422, 42210000),
        ({"fractional_trading": True}, 422, 42210000),
        ({"max_margin_multiplier": "4"}, 422, 42210000),
        ({"max_options_trading_level": 2}, 422, 42210000),
        ({"ptp_no_exception_entry": True}, 422, 42210000),
        (["suspend_trade"], 400, 40010000),
    ],
)
def test_patch_refusals_are_alpacas_and_change_nothing(api, data, status, code):
    response = api.patch("/v2/account/configurations", data, format="json")
    assert response.status_code == status
    assert alpaca_body(response)["code"] == code
    assert api.get("/v2/account/configurations").json()["dtbp_check"] == "entry"


def test_same_values_as_shown_are_accepted(api):
    shown = api.get("/v2/account/configurations").json()
    assert api.patch("/v2/account/configurations", shown, format="json").json() == shown


def test_suspend_trade_blocks_new_orders_everywhere_and_cancels_still_work(
    api, account, acme, caplog
):
    open_order = buy(account, 1, order_type="limit", limit_price="99.00", time_in_force="gtc")
    body = {"suspend_trade": True}
    assert api.patch("/v2/account/configurations", body, format="json").json()["suspend_trade"]
    assert api.get("/v2/account").json()["trade_suspended_by_user"] is True
    order = {"symbol": "ACME", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
    refused = api.post("/v2/orders", order, format="json")
    assert refused.status_code == 403 and alpaca_body(refused)["code"] == 40310000
    assert "suspend" in refused.json()["message"]
    with pytest.raises(ServiceError) as web:
        buy(account, 1)  # the web ticket's path
    assert web.value.code == "trade_suspended"
    replaced = api.patch(f"/v2/orders/{open_order.uuid}", {"qty": "2"}, format="json")
    assert replaced.status_code == 403
    assert api.delete(f"/v2/orders/{open_order.uuid}").status_code == 204
    assert Order.objects.filter(account=account).count() == 1
    assert any(
        "suspend_trade" in r.getMessage() for r in caplog.records if r.levelname == "WARNING"
    )

    api.patch("/v2/account/configurations", {"suspend_trade": False}, format="json")
    assert api.post("/v2/orders", order, format="json").status_code == 200


def test_one_accounts_configuration_is_not_anothers(api, account):
    other = AccountFactory()
    api.patch("/v2/account/configurations", {"suspend_trade": True}, format="json")
    assert client_for(other).get("/v2/account/configurations").json()["suspend_trade"] is False


# --- Watchlists -----------------------------------------------------------------------------


def test_watchlist_life_cycle_keeps_order_and_alpacas_fields(api, account, listed):
    created = api.post(
        "/v2/watchlists", {"name": "Tech", "symbols": ["qqq", "ACME", "SPY", "ACME"]}, format="json"
    )
    assert created.status_code == 200, created.json()
    data = created.json()
    assert set(data) == WATCHLIST_FIELDS
    assert [a["symbol"] for a in data["assets"]] == ["QQQ", "ACME", "SPY"]
    assert set(data["assets"][0]) >= ASSET_FIELDS
    assert data["account_id"] == api.get("/v2/account").json()["id"]
    wid = data["id"]

    listed_all = api.get("/v2/watchlists").json()
    assert [w["id"] for w in listed_all] == [wid] and "assets" not in listed_all[0]
    assert api.get(f"/v2/watchlists/{wid}").json()["name"] == "Tech"

    added = api.post(f"/v2/watchlists/{wid}", {"symbol": "TLT"}, format="json").json()
    assert [a["symbol"] for a in added["assets"]] == ["QQQ", "ACME", "SPY", "TLT"]
    again = api.post(f"/v2/watchlists/{wid}", {"symbol": "TLT"}, format="json").json()
    assert len(again["assets"]) == 4  # adding one already there changes nothing

    removed = api.delete(f"/v2/watchlists/{wid}/ACME")
    assert removed.status_code == 200
    assert [a["symbol"] for a in removed.json()["assets"]] == ["QQQ", "SPY", "TLT"]
    assert api.delete(f"/v2/watchlists/{wid}/ACME").status_code == 404

    renamed = api.put(
        f"/v2/watchlists/{wid}", {"name": "Funds", "symbols": ["TLT", "SPY"]}, format="json"
    ).json()
    assert renamed["name"] == "Funds" and [a["symbol"] for a in renamed["assets"]] == ["TLT", "SPY"]
    assert renamed["updated_at"] >= data["updated_at"]

    assert api.delete(f"/v2/watchlists/{wid}").status_code == 204
    assert api.get(f"/v2/watchlists/{wid}").status_code == 404
    assert not WatchlistItem.objects.exists()


def test_by_name(api, listed):
    api.post("/v2/watchlists", {"name": "Morning list", "symbols": ["SPY"]}, format="json")
    url = "/v2/watchlists:by_name"
    assert api.get(url, {"name": "Morning list"}).json()["assets"][0]["symbol"] == "SPY"
    added = api.post(f"{url}?name=Morning%20list", {"symbol": "QQQ"}, format="json").json()
    assert [a["symbol"] for a in added["assets"]] == ["SPY", "QQQ"]
    put = api.put(f"{url}?name=Morning%20list", {"name": "Evening list"}, format="json")
    assert put.json()["name"] == "Evening list" and len(put.json()["assets"]) == 2
    assert api.get(url, {"name": "Morning list"}).status_code == 404
    assert api.get(url).status_code == 422
    assert api.delete(f"{url}?name=Evening%20list").status_code == 204
    assert not Watchlist.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"symbols": ["SPY"]}, 422, 40010001),
        ({"name": "   "}, 422, 40010001),
        ({"name": "x" * 65}, 422, 40010001),
        ({"name": "bad\u202ename"}, 422, 40010001),
        ({"name": "List", "symbols": "SPY"}, 422, 40010001),
        ({"name": "List", "symbols": ["SPY", 3]}, 422, 40010001),
        ({"name": "List", "symbols": ["SPY", "NOPE"]}, 404, 40410000),
        (["name"], 400, 40010000),
    ],
)
def test_create_refusals(api, listed, body, status, code):
    response = api.post("/v2/watchlists", body, format="json")
    assert response.status_code == status, response.json()
    assert alpaca_body(response)["code"] == code
    assert not Watchlist.objects.exists()


def test_name_unique_and_caps(api, listed, settings):
    assert api.post("/v2/watchlists", {"name": "A"}, format="json").status_code == 200
    taken = api.post("/v2/watchlists", {"name": "A"}, format="json")
    assert taken.status_code == 422 and "already" in taken.json()["message"]
    settings.WATCHLIST_MAX_SYMBOLS = 2
    wid = api.get("/v2/watchlists").json()[0]["id"]
    api.post(f"/v2/watchlists/{wid}", {"symbol": "SPY"}, format="json")
    api.post(f"/v2/watchlists/{wid}", {"symbol": "QQQ"}, format="json")
    full = api.post(f"/v2/watchlists/{wid}", {"symbol": "TLT"}, format="json")
    assert full.status_code == 422 and "at most 2" in full.json()["message"]
    too_many = api.put(f"/v2/watchlists/{wid}", {"symbols": ["SPY", "QQQ", "TLT"]}, format="json")
    assert too_many.status_code == 422
    settings.WATCHLIST_MAX_LISTS = 2
    assert api.post("/v2/watchlists", {"name": "B"}, format="json").status_code == 200
    third = api.post("/v2/watchlists", {"name": "C"}, format="json")
    assert third.status_code == 422 and "At most 2 watchlists" in third.json()["message"]
    unknown = api.post(f"/v2/watchlists/{wid}", {"symbol": "NOPE"}, format="json")
    assert unknown.status_code == 404


def test_another_customers_watchlist_is_not_found(api, listed):
    other = client_for(AccountFactory())
    theirs = other.post("/v2/watchlists", {"name": "Mine", "symbols": ["SPY"]}, format="json")
    wid = theirs.json()["id"]
    assert api.get(f"/v2/watchlists/{wid}").status_code == 404
    assert api.post(f"/v2/watchlists/{wid}", {"symbol": "QQQ"}, format="json").status_code == 404
    assert api.put(f"/v2/watchlists/{wid}", {"name": "X"}, format="json").status_code == 404
    assert api.delete(f"/v2/watchlists/{wid}/SPY").status_code == 404
    assert api.delete(f"/v2/watchlists/{wid}").status_code == 404
    assert api.get("/v2/watchlists:by_name", {"name": "Mine"}).status_code == 404
    assert api.get(f"/v2/watchlists/{uuid.uuid4()}").status_code == 404
    assert api.get("/v2/watchlists/not-a-uuid").status_code == 404
    assert [a["symbol"] for a in other.get(f"/v2/watchlists/{wid}").json()["assets"]] == ["SPY"]


def test_the_watchlist_page_shows_the_first_watchlist(api, account, listed):
    user = account.holders.get()
    watchlist.add_symbol(user, "SPY")  # the page's add: makes the Primary Watchlist
    [first] = api.get("/v2/watchlists").json()
    assert first["name"] == watchlist.DEFAULT_NAME
    api.post(f"/v2/watchlists/{first['id']}", {"symbol": "QQQ"}, format="json")
    api.post("/v2/watchlists", {"name": "Other", "symbols": ["TLT"]}, format="json")
    assert [w.security.symbol for w in watchlist.watched_quotes(user)] == ["QQQ", "SPY"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_stop_at_the_list_cap(settings, account):
    from tests.security.test_caps_under_lock import run_at_once

    settings.WATCHLIST_MAX_LISTS = 5
    user = account.holders.get()
    outcomes = run_at_once(12, lambda i: watchlist.create_watchlist(user, f"List {i}"))
    assert outcomes.count("ok") == 5 and outcomes.count("too_many_watchlists") == 7
    assert Watchlist.objects.filter(user=user).count() == 5


def test_staff_see_configurations_and_watchlists_in_admin(client, api, account, listed):
    from tests.factories import StaffFactory

    api.patch("/v2/account/configurations", {"suspend_trade": True}, format="json")
    api.post("/v2/watchlists", {"name": "Seen by staff", "symbols": ["SPY"]}, format="json")
    client.force_login(StaffFactory())
    page = client.get("/admin/trading/accountconfiguration/?suspend_trade__exact=1")
    assert page.status_code == 200 and account.account_number in page.content.decode()
    lists = client.get("/admin/trading/watchlist/")
    assert lists.status_code == 200 and "Seen by staff" in lists.content.decode()
    etfs = client.get("/admin/trading/security/?is_etf__exact=1")
    assert etfs.status_code == 200


def test_trade_confirm_email_all_sends_one_per_fill_and_none_sends_none(
    api, account, acme, django_capture_on_commit_callbacks, mailoutbox, caplog
):
    from .test_alpaca_api import fill

    holder = account.holders.get()
    with django_capture_on_commit_callbacks(execute=True):
        order = fill(buy(account, 2), price="100.00")
    [sent] = mailoutbox
    assert sent.to == [holder.email] and "buy 2 ACME at $100.00" in sent.subject
    assert f"/account/{account.account_number}/confirmations/" in sent.body
    settings_body = {"trade_confirm_email": "none"}
    api.patch("/v2/account/configurations", settings_body, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        fill(buy(account, 3), price="100.00")
    assert len(mailoutbox) == 1
    assert any("trade_confirm_email none" in r.getMessage() for r in caplog.records)
    assert order.status == "filled"


def test_a_broker_down_costs_the_fill_email_never_the_fill(
    account, acme, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from trading import tasks

    from .test_alpaca_api import fill

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.send_fill_emails, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        order = fill(buy(account, 2), price="100.00")
    assert order.status == "filled" and order.executions.count() == 1
    assert any("broker unreachable" in str(r.exc_info) for r in caplog.records if r.exc_info)
