"""The Alpaca-compatible trading API (/v2/) over HTTP: keys, isolation between
accounts, Alpaca's shapes and error bodies, rate limits and bounded queries."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from tests.factories import PASSWORD, AccountFactory, UserFactory, fund
from trading.market import market_data
from trading.market.models import DailyClose, Security
from trading.orders import entry
from trading.orders.executions import ExecutionReport, apply_execution_report
from trading.orders.models import Order, OrderStatus, Position
from trading.reporting.models import AccountSnapshot

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("10000.00"))
    return account


def client_for(account) -> APIClient:
    key, secret = keys.create_api_key(account, account.holders.get())
    client = APIClient()
    client.credentials(HTTP_APCA_API_KEY_ID=key.key_id, HTTP_APCA_API_SECRET_KEY=secret)
    client.key = key
    return client


@pytest.fixture
def api(account):
    return client_for(account)


def fill(order, qty=None, price="100.00", exec_id=None):
    qty = qty or order.qty
    apply_execution_report(
        ExecutionReport(
            exec_id=exec_id or f"E-{order.pk}-{qty}",
            cl_ord_id=order.cl_ord_id,
            exec_type="2" if qty == order.qty else "1",
            ord_status="2" if qty == order.qty else "1",
            last_qty=qty,
            last_px=D(price),
            cum_qty=qty,
            leaves_qty=order.qty - qty,
        )
    )
    order.refresh_from_db()
    return order


def buy(account, qty=10, symbol="ACME", **kwargs):
    values = {"symbol": symbol, "side": "buy", "order_type": "market", "time_in_force": "day"}
    order, _ = entry.place_order(account, None, qty=qty, **(values | kwargs))
    return order


# --- Keys and authentication ----------------------------------------------------------------


def test_no_key_unknown_key_and_wrong_secret_get_401(account):
    response = APIClient().get("/v2/account")
    assert response.status_code == 401
    assert response.json() == {"code": 40110000, "message": "request is not authorized"}
    key, secret = keys.create_api_key(account, None)
    for key_id, wrong in ((key.key_id, secret + "x"), ("RKNOSUCHKEY000000000", secret)):
        client = APIClient()
        client.credentials(HTTP_APCA_API_KEY_ID=key_id, HTTP_APCA_API_SECRET_KEY=wrong)
        response = client.get("/v2/account")
        assert response.status_code == 401 and response.json()["code"] == 40110000


def test_revoked_key_gets_401_at_once(api, account):
    assert api.get("/v2/account").status_code == 200
    keys.revoke_api_key(api.key, None)
    response = api.get("/v2/account")
    assert response.status_code == 401
    assert response.json()["code"] == 40110000


def test_only_a_hash_of_the_secret_is_stored(account):
    key, secret = keys.create_api_key(account, None)
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret not in stored.secret_hash and stored.secret_hash.startswith("hmac-sha256$")
    assert keys.authenticate(key.key_id, secret) == key
    assert keys.authenticate(key.key_id, secret[:-1]) is None
    assert len(key.key_id) == 20 and len(secret) == 40


def test_create_api_key_command_prints_a_working_pair(account):
    out = StringIO()
    call_command("create_api_key", account.account_number, stdout=out)
    lines = dict(line.split(":", 1) for line in out.getvalue().splitlines() if ":" in line)
    key_id = lines["APCA-API-KEY-ID"].strip()
    secret = lines["APCA-API-SECRET-KEY"].strip()
    client = APIClient()
    client.credentials(HTTP_APCA_API_KEY_ID=key_id, HTTP_APCA_API_SECRET_KEY=secret)
    assert client.get("/v2/account").json()["account_number"] == account.account_number


def test_portal_page_creates_shows_secret_once_and_revokes(client, account):
    user = account.holders.get()
    # A fresh sign-in: making a key needs a recent one (the step-up).
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    url = f"/account/{account.account_number}/api-keys/"
    page = client.post(url, {"name": "my bot"})
    assert page.status_code == 200
    key = ApiKey.objects.get(account=account)
    secret = page.context["created"]["secret"]
    assert key.key_id in page.content.decode() and secret in page.content.decode()
    assert keys.authenticate(key.key_id, secret) == key
    again = client.get(url).content.decode()
    assert key.key_id in again and secret not in again  # shown once
    client.post(f"/account/{account.account_number}/api-keys/{key.key_id}/revoke")
    key.refresh_from_db()
    assert not key.is_active and keys.authenticate(key.key_id, secret) is None
    assert "API keys" in client.get(f"/account/{account.account_number}/").content.decode()


def test_portal_page_of_someone_elses_account_is_404(client, account):
    client.force_login(UserFactory())
    assert client.get(f"/account/{account.account_number}/api-keys/").status_code == 404
    key, _ = keys.create_api_key(account, None)
    url = f"/account/{account.account_number}/api-keys/{key.key_id}/revoke"
    assert client.post(url).status_code == 404
    key.refresh_from_db()
    assert key.is_active


# --- Account, positions ---------------------------------------------------------------------


def test_account(api, account, acme):
    fill(buy(account, 10), price="90.00")
    data = api.get("/v2/account").json()
    assert data["account_number"] == account.account_number
    assert uuid.UUID(data["id"]) and data["status"] == "ACTIVE" and data["currency"] == "USD"
    assert data["cash"] == "9099"  # 10,000 - 900 - $1 commission
    assert data["long_market_value"] == "1000"
    assert data["equity"] == data["portfolio_value"] == "10099"
    assert data["buying_power"] == "9099" and data["multiplier"] == "1"
    assert data["pattern_day_trader"] is False and data["trading_blocked"] is False


def test_positions_valued_at_the_quote(api, account, acme, market):
    session, _ = market_data.quote_session()
    DailyClose.objects.create(security=acme, date=session.previous, close=D("95.00"))
    fill(buy(account, 10), price="90.00")
    market.last["ACME"] = D("99.00")
    [position] = api.get("/v2/positions").json()
    assert position == position | {
        "symbol": "ACME",
        "asset_id": str(acme.uuid),
        "exchange": "NYSE",
        "asset_class": "us_equity",
        "side": "long",
        "qty": "10",
        "qty_available": "10",
        "avg_entry_price": "90",
        "current_price": "99",
        "lastday_price": "95",
        "market_value": "990",
        "cost_basis": "900",
        "unrealized_pl": "90",
        "unrealized_plpc": "0.1",
        "unrealized_intraday_pl": "40",
    }
    assert api.get("/v2/positions/acme").json()["qty"] == "10"
    assert api.get(f"/v2/positions/{acme.uuid}").json()["symbol"] == "ACME"
    response = api.get("/v2/positions/ZZZZ")
    assert response.status_code == 404 and response.json()["code"] == 40410000


def test_close_position_places_a_market_sell(api, account, acme):
    fill(buy(account, 10))
    response = api.delete("/v2/positions/ACME?percentage=50")
    assert response.status_code == 200
    data = response.json()
    assert (data["side"], data["type"], data["qty"], data["status"]) == (
        "sell",
        "market",
        "5",
        "pending_new",
    )
    assert Order.objects.get(uuid=data["id"]).account == account
    response = api.delete("/v2/positions/ACME")  # the rest
    assert response.json()["qty"] == "5"
    response = api.delete("/v2/positions/ACME")  # nothing left to sell
    assert response.status_code == 403 and response.json()["code"] == 40310000


def test_positions_run_the_same_queries_for_5_and_500(api, account, market):
    def make(n, start):
        securities = Security.objects.bulk_create(
            Security(symbol=f"S{start + i}", name="x", exchange="NASDAQ", reference_price=D("50"))
            for i in range(n)
        )
        for security in securities:
            market.last[security.symbol] = D("51.00")
        Position.objects.filter(account=account).delete()
        Position.objects.bulk_create(
            Position(account=account, security=s, qty=3, avg_cost=D("50")) for s in securities
        )

    assert api.get("/v2/account").status_code == 200  # the key's first use is recorded
    counts = {}
    for n, start in ((5, 0), (500, 1000)):
        make(n, start)
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/v2/positions")
        assert response.status_code == 200 and len(response.json()) == n
        counts[n] = len(queries)
    assert counts[5] == counts[500], counts


# --- Orders ---------------------------------------------------------------------------------

LIMIT_BUY = {
    "symbol": "ACME",
    "qty": "10",
    "side": "buy",
    "type": "limit",
    "time_in_force": "day",
    "limit_price": "99.50",
}


def test_submit_goes_through_place_order_and_retry_returns_the_first(api, account, acme):
    response = api.post("/v2/orders", LIMIT_BUY | {"client_order_id": "bot-1"}, format="json")
    assert response.status_code == 200
    data = response.json()
    order = Order.objects.get(uuid=data["id"])
    assert order.account == account and order.status == OrderStatus.PENDING_NEW
    assert order.outbox.count() == 1 and order.held_amount > 0  # the web ticket's path
    assert data == data | {
        "client_order_id": "bot-1",
        "symbol": "ACME",
        "qty": "10",
        "filled_qty": "0",
        "limit_price": "99.5",
        "type": "limit",
        "order_type": "limit",
        "order_class": "simple",
        "status": "pending_new",
        "asset_id": str(acme.uuid),
    }
    retry = api.post("/v2/orders", LIMIT_BUY | {"client_order_id": "bot-1"}, format="json")
    assert retry.json()["id"] == data["id"] and Order.objects.count() == 1
    other = api.post(
        "/v2/orders", LIMIT_BUY | {"client_order_id": "bot-1", "qty": "11"}, format="json"
    )
    assert other.status_code == 422
    assert other.json() == {"code": 42210000, "message": "client_order_id must be unique"}


def test_numbers_as_json_numbers_are_accepted(api, acme):
    response = api.post("/v2/orders", LIMIT_BUY | {"qty": 10.0, "limit_price": 99.5}, format="json")
    assert response.status_code == 200 and response.json()["qty"] == "10"


def test_list_get_by_client_id_replace_and_cancel(api, account, acme):
    first = api.post("/v2/orders", LIMIT_BUY | {"client_order_id": "a"}, format="json").json()
    second = api.post("/v2/orders", LIMIT_BUY | {"client_order_id": "b"}, format="json").json()
    listed = api.get("/v2/orders").json()
    assert [o["id"] for o in listed] == [second["id"], first["id"]]
    assert api.get("/v2/orders?direction=asc&limit=1").json()[0]["id"] == first["id"]
    assert api.get("/v2/orders?status=closed").json() == []
    assert api.get(f"/v2/orders/{first['id']}").json()["client_order_id"] == "a"
    by_client = api.get("/v2/orders:by_client_order_id?client_order_id=b").json()
    assert by_client["id"] == second["id"]

    replaced = api.patch(f"/v2/orders/{first['id']}", {"limit_price": "99.00"}, format="json")
    assert replaced.status_code == 200
    new = replaced.json()
    assert new["replaces"] == first["id"] and new["limit_price"] == "99"
    assert api.get(f"/v2/orders/{first['id']}").json()["status"] == "pending_replace"

    assert api.delete(f"/v2/orders/{second['id']}").status_code == 204
    assert Order.objects.get(uuid=second["id"]).status == OrderStatus.PENDING_CANCEL
    again = api.delete(f"/v2/orders/{second['id']}")
    assert again.status_code == 422 and again.json()["code"] == 42210000

    results = api.delete("/v2/orders")
    assert results.status_code == 207
    assert [(r["id"], r["status"]) for r in results.json()] == [(new["id"], 200)]


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"qty": None}, 422, 40010001),
        ({"qty": "abc"}, 422, 40010001),
        ({"qty": "1.5"}, 422, 40010001),
        ({"qty": "-3"}, 422, 40010001),
        ({"qty": [1]}, 422, 40010001),
        ({"symbol": "NOPE"}, 422, 40010001),
        ({"side": "short"}, 422, 40010001),
        ({"type": "market"}, 422, 40010001),  # a limit price on a market order
        ({"limit_price": "abc"}, 422, 40010001),
        ({"limit_price": "99.555"}, 422, 40010001),
        ({"time_in_force": "opg"}, 422, 42210000),
        ({"type": "trailing_stop"}, 422, 40010001),  # offered: needs a trail
        ({"notional": "100"}, 422, 42210000),
        ({"order_class": "bracket"}, 422, 40010001),  # offered: needs its exits
        ({"extended_hours": True}, 422, 42210000),
        ({"client_order_id": "x" * 129}, 422, 40010001),
        ({"qty": "1000"}, 403, 40310000),  # $99,500 > buying power
        ({"side": "sell"}, 403, 40310000),  # no shares: no short sales
    ],
)
def test_bad_orders_get_alpaca_errors(api, acme, change, status, code):
    body = {k: v for k, v in (LIMIT_BUY | change).items() if v is not None}
    response = api.post("/v2/orders", body, format="json")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code and response.json()["message"]
    assert Order.objects.count() == 0


def test_insufficient_buying_power_message(api, acme):
    response = api.post("/v2/orders", LIMIT_BUY | {"qty": "1000"}, format="json")
    assert response.json()["message"] == "insufficient buying power"


def test_malformed_body_and_unknown_ids(api, acme):
    response = api.generic("POST", "/v2/orders", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == 40010000
    for order_id in ("not-a-uuid", str(uuid.uuid4())):
        response = api.get(f"/v2/orders/{order_id}")
        assert response.status_code == 404 and response.json()["code"] == 40410000
        assert api.delete(f"/v2/orders/{order_id}").status_code == 404
    assert api.get("/v2/orders:by_client_order_id").status_code == 422
    assert api.get("/v2/orders?status=weird").status_code == 422
    assert api.get("/v2/orders?limit=0").status_code == 422
    response = api.get("/v2/no-such-endpoint")
    assert response.status_code == 404 and response.json()["code"] == 40410000


def test_market_order_while_closed_is_refused_clearly(api, acme, market):
    market.open = False
    response = api.post(
        "/v2/orders", LIMIT_BUY | {"type": "market", "limit_price": None}, format="json"
    )
    assert response.status_code == 422 and "market is closed" in response.json()["message"]


def test_a_key_reaches_only_its_own_account(api, account, acme):
    other = AccountFactory()
    fund(other, D("10000.00"))
    theirs = buy(other, 5)
    fill(theirs)
    their_open = entry.place_order(
        other,
        None,
        symbol="ACME",
        side="buy",
        order_type="limit",
        time_in_force="gtc",
        qty=1,
        limit_price="99.00",
        client_order_id="theirs",
    )[0]
    assert api.get("/v2/positions").json() == []
    assert api.get("/v2/positions/ACME").status_code == 404
    assert api.delete("/v2/positions/ACME").status_code == 404
    assert api.get("/v2/orders?status=all").json() == []
    for order in (theirs, their_open):
        assert api.get(f"/v2/orders/{order.uuid}").status_code == 404
        assert api.patch(f"/v2/orders/{order.uuid}", {"qty": "2"}, format="json").status_code == 404
        assert api.delete(f"/v2/orders/{order.uuid}").status_code == 404
    assert api.get("/v2/orders:by_client_order_id?client_order_id=theirs").status_code == 404
    assert api.delete("/v2/orders").json() == []
    assert api.delete("/v2/positions").json() == []
    their_open.refresh_from_db()
    assert their_open.status == OrderStatus.PENDING_NEW
    assert Position.objects.get(account=other).qty == 5
    assert api.get("/v2/account/activities").json()[0]["activity_type"] == "CSD"
    assert all(a.get("symbol") != "ACME" for a in api.get("/v2/account/activities").json())


# --- Assets, activities, history, clock, calendar -----------------------------------------


def test_assets(api, acme):
    Security.objects.create(
        symbol="OLD", name="Old Co", exchange="NASDAQ", reference_price=D("5"), status="inactive"
    )
    assert [a["symbol"] for a in api.get("/v2/assets").json()] == ["ACME", "OLD"]
    active = api.get("/v2/assets?status=active").json()
    assert [a["symbol"] for a in active] == ["ACME"]
    assert active[0] == active[0] | {
        "id": str(acme.uuid),
        "class": "us_equity",
        "exchange": "NYSE",
        "status": "active",
        "tradable": True,
        "fractionable": False,
    }
    assert api.get(f"/v2/assets/{acme.uuid}").json()["symbol"] == "ACME"
    assert api.get("/v2/assets/old").json()["tradable"] is False
    assert api.get("/v2/assets?exchange=NASDAQ").json()[0]["symbol"] == "OLD"
    response = api.get("/v2/assets/NOPE")
    assert response.status_code == 404 and response.json()["code"] == 40410000


def test_activities_fills_and_cash_with_pages(api, account, acme):
    order = buy(account, 10)
    fill(order, qty=4, price="100.00", exec_id="E1")
    apply_execution_report(
        ExecutionReport(
            exec_id="E2",
            cl_ord_id=order.cl_ord_id,
            exec_type="2",
            ord_status="2",
            last_qty=6,
            last_px=D("100.00"),
            cum_qty=10,
            leaves_qty=0,
        )
    )
    every = api.get("/v2/account/activities?direction=asc").json()
    assert [a["activity_type"] for a in every] == ["CSD", "FILL", "FILL"]
    deposit, first, second = every
    assert deposit["net_amount"] == "10000" and deposit["status"] == "executed"
    assert first == first | {"type": "partial_fill", "qty": "4", "cum_qty": "4", "leaves_qty": "6"}
    assert second == second | {"type": "fill", "cum_qty": "10", "leaves_qty": "0"}
    assert second["order_id"] == str(order.uuid) and second["side"] == "buy"
    fills = api.get("/v2/account/activities/FILL").json()
    assert [a["id"] for a in fills] == [second["id"], first["id"]]  # newest first
    page = api.get("/v2/account/activities?page_size=1").json()
    assert page == [second]
    rest = api.get(f"/v2/account/activities?page_size=2&page_token={second['id']}").json()
    assert rest == [first, deposit]
    assert api.get("/v2/account/activities/DIV").json() == []
    assert api.get("/v2/account/activities/BOGUS").status_code == 400
    assert api.get("/v2/account/activities?page_size=101").status_code == 422


def test_portfolio_history_from_snapshots(api, account):
    today = timezone.localdate()
    rows = [
        (today - timedelta(days=3), "10000.00", "10000.00"),
        (today - timedelta(days=2), "10100.00", "10000.00"),
        (today - timedelta(days=1), "11100.00", "11000.00"),  # a $1,000 deposit
    ]
    for day, equity, transfers in rows:
        AccountSnapshot.objects.create(
            account=account,
            date=day,
            cash=D(equity),
            market_value=D(0),
            equity=D(equity),
            net_transfers=D(transfers),
        )
    AccountSnapshot.objects.create(  # out of the 1W window
        account=account,
        date=today - timedelta(days=40),
        cash=D(1),
        market_value=D(0),
        equity=D(1),
        net_transfers=D(1),
    )
    data = api.get("/v2/account/portfolio/history?period=1W&timeframe=1D").json()
    # The last point is today's: the account as it stands ($10,000 deposited, no trades).
    assert data["equity"] == [10000.0, 10100.0, 11100.0, 10000.0]
    assert data["profit_loss"] == [0.0, 100.0, 100.0, 0.0]
    assert data["profit_loss_pct"] == [0.0, 0.01, 0.01, 0.0]
    assert data["base_value"] == 10000.0 and data["timeframe"] == "1D"
    assert len(data["timestamp"]) == 4 and data["timestamp"] == sorted(data["timestamp"])
    assert len(api.get("/v2/account/portfolio/history?period=3M").json()["equity"]) == 5
    response = api.get("/v2/account/portfolio/history?timeframe=5Min")
    assert response.status_code == 422 and response.json()["code"] == 40010001
    assert api.get("/v2/account/portfolio/history?period=xx").status_code == 422


def test_clock_and_calendar(api):
    clock = api.get("/v2/clock").json()
    assert set(clock) == {"timestamp", "is_open", "next_open", "next_close"}
    assert clock["is_open"] == market_data.is_market_open()
    days = api.get("/v2/calendar?start=2025-11-24&end=2025-12-01").json()
    assert [d["date"] for d in days] == [
        "2025-11-24",
        "2025-11-25",
        "2025-11-26",
        "2025-11-28",
        "2025-12-01",
    ]  # Thanksgiving closed
    assert days[0]["open"] == "09:30" and days[0]["close"] == "16:00"
    assert days[3]["close"] == "13:00"  # the day after Thanksgiving closes early
    assert days[3]["settlement_date"] == "2025-12-01"
    assert api.get("/v2/calendar?start=bad").status_code == 400


# --- Market data ----------------------------------------------------------------------------


def test_latest_quotes_and_trades(api, acme, market):
    market.last["ACME"] = D("42.00")
    data = api.get("/v2/stocks/quotes/latest?symbols=ACME,NOPE").json()
    assert list(data["quotes"]) == ["ACME"]  # unknown symbols are left out
    quote = data["quotes"]["ACME"]
    assert (quote["bp"], quote["ap"], quote["bs"], quote["as"]) == (41.99, 42.01, 100, 100)
    one = api.get("/v2/stocks/ACME/quotes/latest").json()
    assert one["symbol"] == "ACME" and one["quote"]["ap"] == 42.01
    trades = api.get("/v2/stocks/trades/latest?symbols=acme").json()["trades"]
    assert trades["ACME"]["p"] == 42.0
    assert api.get("/v2/stocks/ACME/trades/latest").json()["trade"]["p"] == 42.0
    assert api.get("/v2/stocks/NOPE/quotes/latest").status_code == 404
    response = api.get("/v2/stocks/quotes/latest")
    assert response.status_code == 400 and response.json()["code"] == 40010000


def test_daily_bars_from_stored_closes(api, acme):
    days = [date(2025, 11, 24), date(2025, 11, 25), date(2025, 11, 26)]
    for day, close in zip(days, ("100.00", "102.00", "101.00"), strict=True):
        DailyClose.objects.create(security=acme, date=day, close=D(close), volume=1000)
    params = "timeframe=1Day&start=2025-11-25T00:00:00Z&end=2025-11-27T00:00:00Z"
    data = api.get(f"/v2/stocks/bars?symbols=ACME&{params}").json()
    bars = data["bars"]["ACME"]
    assert [(b["o"], b["h"], b["l"], b["c"], b["v"]) for b in bars] == [
        (100.0, 102.0, 100.0, 102.0, 1000),
        (102.0, 102.0, 101.0, 101.0, 1000),
    ]
    assert data["next_page_token"] is None
    first = api.get(f"/v2/stocks/ACME/bars?{params}&limit=1").json()
    assert len(first["bars"]) == 1 and first["next_page_token"]
    second = api.get(
        f"/v2/stocks/ACME/bars?{params}&limit=1&page_token={first['next_page_token']}"
    ).json()
    assert second["bars"][0]["c"] == 101.0 and second["next_page_token"] is None
    response = api.get("/v2/stocks/bars?symbols=ACME&timeframe=1Week")
    assert response.status_code == 422 and response.json()["code"] == 42210000


# --- Rate limit -----------------------------------------------------------------------------


def test_rate_limit_per_key_with_headers(api, account, settings):
    settings.ALPACA_RATE_LIMIT = 3
    seen = [api.get("/v2/clock") for _ in range(3)]
    assert [r["X-RateLimit-Remaining"] for r in seen] == ["2", "1", "0"]
    assert all(r["X-RateLimit-Limit"] == "3" for r in seen)
    assert int(seen[0]["X-RateLimit-Reset"]) > timezone.now().timestamp()
    refused = api.get("/v2/account")
    assert refused.status_code == 429
    assert refused.json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert refused["X-RateLimit-Remaining"] == "0"
    assert client_for(account).get("/v2/clock").status_code == 200  # another key, own count


def test_schema_documents_v2_and_rate_limit_headers(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/v2/positions" in schema["paths"] and "/v2/orders/{order_id}" in schema["paths"]
    get_positions = schema["paths"]["/v2/positions"]["get"]
    assert "X-RateLimit-Remaining" in get_positions["responses"]["200"]["headers"]
    assert "429" in get_positions["responses"]


def test_an_unexpected_error_is_a_500_with_alpacas_body(api, monkeypatch):
    from trading.alpaca import portfolio

    def broken(account):
        raise RuntimeError("bug")

    monkeypatch.setattr(portfolio, "account_summary", broken)
    api.raise_request_exception = False
    response = api.get("/v2/account")
    assert response.status_code == 500 and response.json()["code"] == 50010000


def test_staff_revoke_keys_in_admin(client, account):
    from tests.factories import StaffFactory

    key, secret = keys.create_api_key(account, None)
    client.force_login(StaffFactory())
    page = client.get("/admin/accounts/apikey/")
    assert key.key_id in page.content.decode() and secret not in page.content.decode()
    client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert keys.authenticate(key.key_id, secret) is None


def test_whole_calendar_to_its_last_session(api):
    days = api.get("/v2/calendar").json()
    assert days[0]["date"] == "2000-01-03" and days[-1]["settlement_date"] is None
    assert all(d["settlement_date"] for d in days[:-1])


@pytest.mark.parametrize(
    "method, url",
    [
        ("delete", "/v2/positions/ACME?qty=abc"),
        ("delete", "/v2/positions/ACME?percentage=nan"),
        ("delete", "/v2/positions/ACME?percentage=150"),
        ("delete", "/v2/positions/ACME?qty=-2"),
        ("delete", "/v2/positions/ACME?qty=1&percentage=5"),
        ("get", "/v2/orders?after=yesterday"),
        ("get", "/v2/orders?side=up"),
        ("get", "/v2/account/activities?after=soon"),
        ("get", "/v2/account/activities?page_token=zzz"),
        ("get", "/v2/account/portfolio/history?date_end=31/12/2025"),
        ("get", "/v2/stocks/bars?symbols=ACME&timeframe=1Day&start=monday"),
        ("get", "/v2/stocks/bars?symbols=ACME&timeframe=1Day&limit=x"),
        ("get", "/v2/stocks/quotes/latest?symbols=" + ",".join(f"S{i}" for i in range(101))),
    ],
)
def test_bad_parameters_are_4xx_with_a_message(api, account, acme, method, url):
    fill(buy(account, 10))
    response = getattr(api, method)(url)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["message"] and str(response.json()["code"]).startswith("4")


@pytest.mark.parametrize("body", [[], "text", {"qty": {"n": 1}}, {"qty": "0"}])
def test_bad_replace_bodies(api, acme, body):
    order = api.post("/v2/orders", LIMIT_BUY, format="json").json()
    response = api.patch(f"/v2/orders/{order['id']}", body, format="json")
    assert response.status_code in (400, 422) and response.json()["code"]


ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["ACME", "buy", "sell", "limit", "market", "stop", "day", "gtc", "99.50"]),
    st.lists(st.integers(), max_size=2),
)
ORDER_FIELDS = st.dictionaries(
    st.sampled_from(
        [
            "symbol",
            "qty",
            "side",
            "type",
            "time_in_force",
            "limit_price",
            "stop_price",
            "client_order_id",
            "notional",
            "extended_hours",
            "order_class",
        ]
    ),
    ANYTHING,
)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=ORDER_FIELDS)
def test_any_order_body_gets_an_order_or_an_alpaca_error_never_a_500(api, acme, settings, body):
    settings.ALPACA_RATE_LIMIT = 10**9
    response = api.post("/v2/orders", body, format="json")
    assert response.status_code in (200, 400, 403, 422), (body, response.content)
    data = response.json()
    if response.status_code == 200:
        assert Order.objects.filter(uuid=data["id"]).exists()
    else:
        assert isinstance(data["code"], int) and data["message"]
