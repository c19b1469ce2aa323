"""Every /v2 endpoint against Alpaca's documented entities (tests/alpaca/alpaca_entities.py,
from alpacahq/alpaca-docs): each operation once with a request that must succeed, its
answer checked field by field with the JSON types Alpaca documents; then seeded, varied
requests over all of them (good and bad paths, parameters and bodies) where every 2xx
body must still be Alpaca's shape, every 4xx Alpaca's `{"code": int, "message": str}`,
and nothing a 5xx. The figures are printed at the end (`pytest -s`)."""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import resolve
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import AccountFactory, fund
from trading.alpaca import data
from trading.market import watchlist
from trading.market.models import DailyClose, Security
from trading.reporting.models import AccountSnapshot

from . import alpaca_entities as e
from .test_alpaca_api import buy, client_for, fill

pytestmark = pytest.mark.django_db
D = Decimal
NY = ZoneInfo("America/New_York")
SYMBOLS = ("ACME", "SPY", "QQQ")


# --- What each operation answers ------------------------------------------------------------


def _keyed(check, where: str):
    """{symbol: item} with `check` on each item."""

    def run(body, _where=where):
        if not isinstance(body, dict):
            return [f"{_where}: an object was expected"]
        found = []
        for symbol, item in body.items():
            found += check(item, f"{_where}.{symbol}")
        return found

    return run


def _entity(entity):
    return lambda body, where="": e.problems(entity, body, where)


def _page(kind: str, item: dict, one_symbol: bool):
    """Historical bars, quotes or trades: {kind: {symbol: [item]}, next_page_token} or, for
    one symbol, {symbol, kind: [item], next_page_token}."""

    def check(body):
        if not isinstance(body, dict):
            return ["body: an object was expected"]
        found = []
        if not (body.get("next_page_token") is None or isinstance(body["next_page_token"], str)):
            found.append("next_page_token: not a string or null")
        items = body.get(kind)
        if one_symbol:
            if not isinstance(body.get("symbol"), str):
                found.append("symbol: missing")
            return found + e.each(_entity(item), items, kind)
        if not isinstance(items, dict):
            return [*found, f"{kind}: an object was expected"]
        for symbol, rows in items.items():
            found += e.each(_entity(item), rows, f"{kind}.{symbol}")
        return found

    return check


def _latest(kind: str, item: dict, one_symbol: bool):
    """Latest quotes, trades or bars: {kinds: {symbol: item}} or {symbol, kind: item}."""

    def check(body):
        if not isinstance(body, dict):
            return ["body: an object was expected"]
        if one_symbol:
            found = [] if isinstance(body.get("symbol"), str) else ["symbol: missing"]
            return found + e.problems(item, body.get(kind), kind)
        return _keyed(_entity(item), f"{kind}s")(body.get(f"{kind}s"))

    return check


def _snapshot(body, where=""):
    found = e.problems(e.SNAPSHOT, body, where)
    if found:
        return found
    for name, item in (
        ("latestTrade", e.TRADE),
        ("latestQuote", e.QUOTE),
        ("minuteBar", e.BAR),
        ("dailyBar", e.BAR),
        ("prevDailyBar", e.BAR),
    ):
        if body[name] is not None:
            # A latest quote may leave out the tape (z), as the data API's latest quotes do.
            wanted = {k: v for k, v in item.items() if k != "z"} if item is e.QUOTE else item
            found += e.problems(wanted, body[name], f"{where}.{name}")
    return found


def _multi_status(key: str, ok):
    """DELETE /v2/orders and /v2/positions: [{key, status, body}], body an order on 200,
    Alpaca's error otherwise."""

    def check(body):
        found = []
        for index, item in enumerate(body if isinstance(body, list) else [None]):
            where = f"[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("status"), int):
                found.append(f"{where}: not {{{key}, status, body}}")
                continue
            if not isinstance(item.get(key), str):
                found.append(f"{where}.{key}: missing")
            if item["status"] == 200:
                found += ok(item.get("body"), f"{where}.body")
            else:
                found += [
                    f"{where}.body: {p}" for p in e.error_problems(item.get("body"), item["status"])
                ]
        return found

    return check


def _no_body(body):
    return [] if body is None else [f"204 with a body: {body!r}"]


SHAPES = {
    ("alpaca-account", "GET"): _entity(e.ACCOUNT),
    ("alpaca-activities", "GET"): lambda b: e.each(e.activity_problems, b),
    ("alpaca-activities-type", "GET"): lambda b: e.each(e.activity_problems, b),
    ("alpaca-portfolio-history", "GET"): _entity(e.PORTFOLIO_HISTORY),
    ("alpaca-account-configurations", "GET"): _entity(e.ACCOUNT_CONFIGURATIONS),
    ("alpaca-account-configurations", "PATCH"): _entity(e.ACCOUNT_CONFIGURATIONS),
    ("alpaca-watchlists", "GET"): lambda b: e.each(
        lambda w, where: e.watchlist_problems(w, where, with_assets=False), b
    ),
    ("alpaca-watchlists", "POST"): e.watchlist_problems,
    ("alpaca-watchlist-symbol", "DELETE"): e.watchlist_problems,
    ("alpaca-positions", "GET"): lambda b: e.each(_entity(e.POSITION), b),
    ("alpaca-positions", "DELETE"): _multi_status("symbol", e.order_problems),
    ("alpaca-position", "GET"): _entity(e.POSITION),
    ("alpaca-position", "DELETE"): e.order_problems,
    ("alpaca-orders", "GET"): lambda b: e.each(e.order_problems, b),
    ("alpaca-orders", "POST"): e.order_problems,
    ("alpaca-orders", "DELETE"): _multi_status("id", e.order_problems),
    ("alpaca-order", "GET"): e.order_problems,
    ("alpaca-order", "PATCH"): e.order_problems,
    ("alpaca-order", "DELETE"): _no_body,
    ("alpaca-order-by-client-id", "GET"): e.order_problems,
    ("alpaca-assets", "GET"): lambda b: e.each(e.asset_problems, b),
    ("alpaca-asset", "GET"): e.asset_problems,
    ("alpaca-clock", "GET"): _entity(e.CLOCK),
    ("alpaca-calendar", "GET"): lambda b: e.each(_entity(e.CALENDAR_DAY), b),
    ("alpaca-latest-quotes", "GET"): _latest("quote", e.QUOTE, False),
    ("alpaca-latest-quote", "GET"): _latest("quote", e.QUOTE, True),
    ("alpaca-latest-trades", "GET"): _latest("trade", e.TRADE, False),
    ("alpaca-latest-trade", "GET"): _latest("trade", e.TRADE, True),
    ("alpaca-latest-bars", "GET"): _latest("bar", e.BAR, False),
    ("alpaca-latest-bar", "GET"): _latest("bar", e.BAR, True),
    ("alpaca-bars", "GET"): _page("bars", e.BAR, False),
    ("alpaca-symbol-bars", "GET"): _page("bars", e.BAR, True),
    ("alpaca-quotes", "GET"): _page("quotes", e.QUOTE, False),
    ("alpaca-symbol-quotes", "GET"): _page("quotes", e.QUOTE, True),
    ("alpaca-trades", "GET"): _page("trades", e.TRADE, False),
    ("alpaca-symbol-trades", "GET"): _page("trades", e.TRADE, True),
    ("alpaca-snapshots", "GET"): _keyed(_snapshot, ""),
    ("alpaca-snapshot", "GET"): lambda b: _snapshot(
        {k: v for k, v in b.items() if k != "symbol"} if isinstance(b, dict) else b
    ),
}
for _name in ("alpaca-watchlist", "alpaca-watchlist-by-name"):
    for _method in ("GET", "PUT", "POST"):
        SHAPES[(_name, _method)] = e.watchlist_problems
    SHAPES[(_name, "DELETE")] = _no_body


def answer_problems(method: str, path: str, response) -> list[str]:
    """What is wrong with an answer: a 5xx, a 2xx not in Alpaca's shape, a 4xx without
    Alpaca's error body."""
    status = response.status_code
    if status >= 500:
        return [f"{status}: {response.content[:300]!r}"]
    content = response.content
    if status == 204:
        body = content or None
    else:
        if not response["Content-Type"].startswith("application/json"):
            return [f"{status} is {response['Content-Type']}, not JSON"]
        body = json.loads(content)
    if status >= 400:
        return e.error_problems(body, status)
    name = resolve(path).url_name
    shape = SHAPES.get((name, method))
    if shape is None:
        return [f"{status} from {name} {method}, which has no documented shape here"]
    return shape(body) if status != 204 else _no_body(body)


# --- The account the requests are made for ------------------------------------------------


@dataclass
class World:
    client: object
    account: object
    order_id: str = ""
    client_order_id: str = ""
    watchlist_id: str = ""
    answers: Counter = field(default_factory=Counter)

    def call(self, method: str, path: str, query: dict | None = None, body=None):
        kwargs = {"format": "json"} if body is not None else {}
        if query:
            from urllib.parse import urlencode

            path_q = f"{path}?{urlencode(query)}"
        else:
            path_q = path
        response = getattr(self.client, method.lower())(path_q, body, **kwargs)
        self.answers[response.status_code // 100] += 1
        return response


@pytest.fixture
def world(market, monkeypatch, settings):
    """A funded cash account holding 10 ACME with an open limit order, a filled one, a
    watchlist, past snapshots and closing prices; market data served for a Tuesday
    session's afternoon."""
    settings.ALPACA_RATE_LIMIT = 10**9
    settings.CLOSE_POSITION_CANCEL_WAIT_SECONDS = 0  # no routing engine confirms cancels here
    monkeypatch.setattr(data, "now", lambda: datetime(2026, 11, 24, 14, 30, tzinfo=NY))
    securities = {}
    for symbol in SYMBOLS:
        market.last[symbol] = D("100.00")
        securities[symbol] = Security.objects.create(
            symbol=symbol, name=f"{symbol} Inc.", exchange="NYSE", reference_price=D("100")
        )
    account = AccountFactory()
    fund(account, D("50000.00"))
    today = timezone.localdate()
    for days in (3, 2, 1):
        day = today - timedelta(days=days)
        DailyClose.objects.create(security=securities["ACME"], date=day, close=D("98.00"))
        AccountSnapshot.objects.create(
            account=account,
            date=day,
            cash=D("50000.00"),
            market_value=D(0),
            equity=D("50000.00"),
            net_transfers=D("50000.00"),
        )
    fill(buy(account, 10), price="99.00")
    open_order = buy(account, 5, order_type="limit", limit_price=D("90.00"), client_order_id="w-1")
    user = account.holders.get()
    main = watchlist.create_watchlist(user, "Main", ["ACME", "SPY"])
    return World(
        client=client_for(account),
        account=account,
        order_id=str(open_order.uuid),
        client_order_id="w-1",
        watchlist_id=str(main.uuid),
    )


# --- Each operation once, with a request that must succeed -------------------------------------

LIMIT_BUY = {
    "symbol": "ACME",
    "qty": "2",
    "side": "buy",
    "type": "limit",
    "time_in_force": "day",
    "limit_price": "95.00",
}
TUESDAY = {"start": "2026-11-24T14:30:00Z", "end": "2026-11-24T19:00:00Z"}

GOOD = [
    ("GET", "/v2/account", None, None),
    ("GET", "/v2/account/activities", None, None),
    ("GET", "/v2/account/activities", {"activity_types": "FILL,CSD", "direction": "asc"}, None),
    ("GET", "/v2/account/activities/FILL", None, None),
    ("GET", "/v2/account/activities/CSD", {"page_size": "1"}, None),
    ("GET", "/v2/account/portfolio/history", {"period": "1M", "timeframe": "1D"}, None),
    ("GET", "/v2/account/portfolio/history", {"period": "1D", "timeframe": "15Min"}, None),
    ("GET", "/v2/account/configurations", None, None),
    ("PATCH", "/v2/account/configurations", None, {"trade_confirm_email": "none"}),
    ("GET", "/v2/watchlists", None, None),
    ("POST", "/v2/watchlists", None, {"name": "Second", "symbols": ["QQQ"]}),
    ("GET", "/v2/watchlists/{watchlist_id}", None, None),
    ("PUT", "/v2/watchlists/{watchlist_id}", None, {"name": "Renamed", "symbols": ["QQQ"]}),
    ("POST", "/v2/watchlists/{watchlist_id}", None, {"symbol": "QQQ"}),
    ("DELETE", "/v2/watchlists/{watchlist_id}/SPY", None, None),
    ("DELETE", "/v2/watchlists/{watchlist_id}", None, None),
    ("GET", "/v2/watchlists:by_name", {"name": "Main"}, None),
    ("PUT", "/v2/watchlists:by_name", {"name": "Main"}, {"name": "Main", "symbols": ["SPY"]}),
    ("POST", "/v2/watchlists:by_name", {"name": "Main"}, {"symbol": "QQQ"}),
    ("DELETE", "/v2/watchlists:by_name", {"name": "Main"}, None),
    ("GET", "/v2/positions", None, None),
    ("GET", "/v2/positions/ACME", None, None),
    ("DELETE", "/v2/positions/ACME", {"qty": "1"}, None),
    ("DELETE", "/v2/positions", None, None),
    ("DELETE", "/v2/positions", {"cancel_orders": "true"}, None),
    ("GET", "/v2/orders", None, None),
    ("GET", "/v2/orders", {"status": "all", "direction": "asc", "limit": "5"}, None),
    ("POST", "/v2/orders", None, LIMIT_BUY),
    ("POST", "/v2/orders", None, {**LIMIT_BUY, "type": "market", "limit_price": None}),
    ("GET", "/v2/orders/{order_id}", None, None),
    ("PATCH", "/v2/orders/{order_id}", None, {"limit_price": "91.00"}),
    ("DELETE", "/v2/orders/{order_id}", None, None),
    ("GET", "/v2/orders:by_client_order_id", {"client_order_id": "{client_order_id}"}, None),
    ("DELETE", "/v2/orders", None, None),
    ("GET", "/v2/assets", None, None),
    ("GET", "/v2/assets", {"status": "active", "exchange": "NYSE"}, None),
    ("GET", "/v2/assets/ACME", None, None),
    ("GET", "/v2/clock", None, None),
    ("GET", "/v2/calendar", {"start": "2026-11-20", "end": "2026-12-02"}, None),
    ("GET", "/v2/stocks/quotes/latest", {"symbols": "ACME,SPY"}, None),
    ("GET", "/v2/stocks/ACME/quotes/latest", None, None),
    ("GET", "/v2/stocks/trades/latest", {"symbols": "ACME,SPY"}, None),
    ("GET", "/v2/stocks/ACME/trades/latest", None, None),
    ("GET", "/v2/stocks/bars/latest", {"symbols": "ACME,SPY"}, None),
    ("GET", "/v2/stocks/ACME/bars/latest", None, None),
    ("GET", "/v2/stocks/bars", {"symbols": "ACME,SPY", "timeframe": "15Min", **TUESDAY}, None),
    ("GET", "/v2/stocks/bars", {"symbols": "ACME", "timeframe": "1Day"}, None),
    ("GET", "/v2/stocks/ACME/bars", {"timeframe": "1Hour", "limit": "2", **TUESDAY}, None),
    ("GET", "/v2/stocks/quotes", {"symbols": "ACME,SPY", "limit": "5", **TUESDAY}, None),
    ("GET", "/v2/stocks/ACME/quotes", {"limit": "5", **TUESDAY}, None),
    ("GET", "/v2/stocks/trades", {"symbols": "ACME", "limit": "5", **TUESDAY}, None),
    ("GET", "/v2/stocks/ACME/trades", {"limit": "5", **TUESDAY}, None),
    ("GET", "/v2/stocks/snapshots", {"symbols": "ACME,SPY"}, None),
    ("GET", "/v2/stocks/ACME/snapshot", None, None),
]


def _fill_in(world: World, text: str) -> str:
    return text.format(
        order_id=world.order_id,
        watchlist_id=world.watchlist_id,
        client_order_id=world.client_order_id,
    )


def test_the_checks_find_a_missing_field_a_wrong_type_and_a_bad_error_body():
    account = {
        **{name: "1" for name, kind in e.ACCOUNT.items() if kind is e.NUM},
        **{name: False for name, kind in e.ACCOUNT.items() if kind is e.BOOL},
        "id": "e6fe16f3-64a4-4921-8928-cadf02f92f98",
        "account_number": "010203ABCD",
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "created_at": "2019-06-12T22:47:07.99658Z",
        "daytrade_count": 0,
    }
    assert e.problems(e.ACCOUNT, account) == []
    assert e.problems(e.ACCOUNT, account | {"cash": 1.5}) == ["cash: 1.5 is not string<number>"]
    assert e.problems(e.ACCOUNT, account | {"daytrade_count": "0"}) != []
    assert e.problems(e.ACCOUNT, account | {"created_at": "yesterday"}) != []
    del account["equity"]
    assert e.problems(e.ACCOUNT, account) == ["equity: missing"]
    assert e.error_problems({"code": 40410000, "message": "not found"}, 404) == []
    assert e.error_problems({"code": "40410000", "message": "not found"}, 404) != []
    assert e.error_problems({"code": 40410000, "message": "not found"}, 422) != []
    assert e.error_problems({"detail": "Not found."}, 404) != []


def test_every_v2_operation_is_in_the_list_below():
    """The list of good requests reaches every route and method /v2 serves."""
    from trading.alpaca import urls

    served = set()
    for pattern in urls.urlpatterns:
        view = getattr(pattern.callback, "view_class", None)
        if view is None:
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                served.add((pattern.name, method.upper()))
    requested = {
        (resolve(_fill_in(World(None, None, "o", "c", "w"), path)).url_name, method)
        for method, path, _q, _b in GOOD
    }
    assert served == requested, served ^ requested
    assert set(SHAPES) == served, set(SHAPES) ^ served


@pytest.mark.parametrize(
    "method, path, query, body", GOOD, ids=[f"{m} {p} {q or ''}" for m, p, q, _b in GOOD]
)
def test_a_good_request_gets_alpacas_fields(world, method, path, query, body):
    path = _fill_in(world, path)
    query = {k: _fill_in(world, v) for k, v in (query or {}).items()}
    response = world.call(method, path, query, body)
    assert 200 <= response.status_code < 300, response.content[:400]
    assert answer_problems(method, path, response) == []
    if response.status_code == 200 and response.content.startswith(b"["):
        # A list that is empty shows nothing: these requests are made where each has items.
        assert json.loads(response.content), f"{method} {path}: an empty list"


# --- Varied requests: whatever the answer, it is Alpaca's -----------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12)
TIMES = st.sampled_from(
    [
        "2026-11-24T15:00:00Z",
        "2026-11-24",
        "2026-11-24T10:00:00-05:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2026-13-40",
        "yesterday",
        "",
    ]
)
NUMBERS = st.sampled_from(["1", "5", "0", "-1", "100", "101", "10001", "1.5", "nan", "1e9", "x"])
SYMBOL_LISTS = st.sampled_from(["ACME", "ACME,SPY", "NOPE", "", "acme", ",", "A" * 40])
PARAMETERS = {
    "status": st.sampled_from(["open", "closed", "all", "active", "inactive", "bogus"]),
    "limit": NUMBERS,
    "page_size": NUMBERS,
    "qty": NUMBERS,
    "percentage": NUMBERS,
    "after": TIMES,
    "until": TIMES,
    "start": TIMES,
    "end": TIMES,
    "date": TIMES,
    "date_end": TIMES,
    "direction": st.sampled_from(["asc", "desc", "up"]),
    "sort": st.sampled_from(["asc", "desc", "up"]),
    "side": st.sampled_from(["buy", "sell", "short"]),
    "symbols": SYMBOL_LISTS,
    "nested": st.sampled_from(["true", "false", "maybe"]),
    "cancel_orders": st.sampled_from(["true", "false", "1"]),
    "activity_types": st.sampled_from(["FILL", "CSD,CSW", "DIV", "BOGUS", ""]),
    "page_token": st.sampled_from(["", "zzz", "%%%", "bm9wZQ", "20260101000000000::F1"]),
    "period": st.sampled_from(["1D", "1W", "1M", "3M", "1A", "all", "xx", "0D"]),
    "timeframe": st.sampled_from(["1Min", "5Min", "15Min", "1H", "1Hour", "1D", "1Day", "2Day"]),
    "asset_class": st.sampled_from(["us_equity", "crypto", "x"]),
    "exchange": st.sampled_from(["NYSE", "NASDAQ", "ARCA", "MOON"]),
    "client_order_id": st.sampled_from(["w-1", "nope", ""]),
    "name": st.sampled_from(["Main", "Second", "Nope", ""]),
    "feed": st.sampled_from(["iex", "sip"]),
    "adjustment": st.sampled_from(["raw", "all"]),
}
ORDER_BODY = st.fixed_dictionaries(
    {},
    optional={
        "symbol": st.sampled_from(["ACME", "SPY", "NOPE", ""]) | TEXT,
        "qty": NUMBERS | st.integers(-5, 5),
        "side": st.sampled_from(["buy", "sell", "short"]),
        "type": st.sampled_from(["market", "limit", "stop", "stop_limit", "trailing_stop"]),
        "time_in_force": st.sampled_from(["day", "gtc", "opg", "ioc", "x"]),
        "limit_price": st.sampled_from(["95.00", "0", "-1", "abc", "99.555"]) | st.none(),
        "stop_price": st.sampled_from(["105.00", "0", "abc"]) | st.none(),
        "client_order_id": st.sampled_from(["w-1", "v-2"]) | TEXT,
        "notional": st.sampled_from(["100"]),
    },
)
WATCHLIST_BODY = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["Main", "Second", "", "x" * 70]) | TEXT,
        "symbols": st.lists(st.sampled_from(["ACME", "SPY", "QQQ", "NOPE", ""]), max_size=4),
        "symbol": st.sampled_from(["ACME", "SPY", "QQQ", "NOPE", ""]),
    },
)
CONFIGURATION_BODY = st.fixed_dictionaries(
    {},
    optional={
        "dtbp_check": st.sampled_from(["both", "entry", "exit", "never"]),
        "trade_confirm_email": st.sampled_from(["all", "none", "some"]),
        "suspend_trade": st.booleans() | st.just("yes"),
        "no_shorting": st.booleans(),
        "fractional_trading": st.booleans(),
        "max_margin_multiplier": st.sampled_from(["1", "2", "4"]),
        "pdt_check": st.sampled_from(["both", "entry", "exit"]),
    },
)
ANY_BODY = st.one_of(
    st.none(), st.just([]), st.just("text"), st.dictionaries(TEXT, TEXT, max_size=2)
)
SYMBOL = st.sampled_from(["ACME", "SPY", "QQQ", "NOPE", "acme", "A.B", "%20"])
IDS = st.sampled_from(["{order_id}", "{watchlist_id}", "00000000-0000-0000-0000-000000000000", "1"])

# (method, path template with {placeholders}, parameters it reads, body strategy or None)
ROUTES = [
    ("GET", "/v2/account", [], None),
    (
        "GET",
        "/v2/account/activities",
        ["activity_types", "date", "after", "until", "direction", "page_size", "page_token"],
        None,
    ),
    (
        "GET",
        "/v2/account/activities/{activity}",
        ["date", "after", "until", "direction", "page_size", "page_token"],
        None,
    ),
    (
        "GET",
        "/v2/account/portfolio/history",
        ["period", "timeframe", "date_end", "start", "end"],
        None,
    ),
    ("GET", "/v2/account/configurations", [], None),
    ("PATCH", "/v2/account/configurations", [], CONFIGURATION_BODY | ANY_BODY),
    ("GET", "/v2/watchlists", [], None),
    ("POST", "/v2/watchlists", [], WATCHLIST_BODY | ANY_BODY),
    ("GET", "/v2/watchlists/{id}", [], None),
    ("PUT", "/v2/watchlists/{id}", [], WATCHLIST_BODY | ANY_BODY),
    ("POST", "/v2/watchlists/{id}", [], WATCHLIST_BODY | ANY_BODY),
    ("DELETE", "/v2/watchlists/{id}/{symbol}", [], None),
    ("DELETE", "/v2/watchlists/{id}", [], None),
    ("GET", "/v2/watchlists:by_name", ["name"], None),
    ("PUT", "/v2/watchlists:by_name", ["name"], WATCHLIST_BODY | ANY_BODY),
    ("POST", "/v2/watchlists:by_name", ["name"], WATCHLIST_BODY | ANY_BODY),
    ("DELETE", "/v2/watchlists:by_name", ["name"], None),
    ("GET", "/v2/positions", [], None),
    ("GET", "/v2/positions/{symbol}", [], None),
    ("DELETE", "/v2/positions/{symbol}", ["qty", "percentage", "cancel_orders"], None),
    ("DELETE", "/v2/positions", ["cancel_orders"], None),
    (
        "GET",
        "/v2/orders",
        ["status", "limit", "after", "until", "direction", "side", "symbols", "nested"],
        None,
    ),
    ("POST", "/v2/orders", [], ORDER_BODY | ANY_BODY),
    ("GET", "/v2/orders/{id}", [], None),
    ("PATCH", "/v2/orders/{id}", [], ORDER_BODY | ANY_BODY),
    ("DELETE", "/v2/orders/{id}", [], None),
    ("GET", "/v2/orders:by_client_order_id", ["client_order_id"], None),
    ("DELETE", "/v2/orders", [], None),
    ("GET", "/v2/assets", ["status", "asset_class", "exchange"], None),
    ("GET", "/v2/assets/{symbol}", [], None),
    ("GET", "/v2/clock", [], None),
    ("GET", "/v2/calendar", ["start", "end"], None),
    ("GET", "/v2/stocks/quotes/latest", ["symbols", "feed"], None),
    ("GET", "/v2/stocks/{symbol}/quotes/latest", ["feed"], None),
    ("GET", "/v2/stocks/trades/latest", ["symbols", "feed"], None),
    ("GET", "/v2/stocks/{symbol}/trades/latest", ["feed"], None),
    ("GET", "/v2/stocks/bars/latest", ["symbols", "feed"], None),
    ("GET", "/v2/stocks/{symbol}/bars/latest", ["feed"], None),
    (
        "GET",
        "/v2/stocks/bars",
        ["symbols", "timeframe", "start", "end", "limit", "page_token", "sort", "adjustment"],
        None,
    ),
    (
        "GET",
        "/v2/stocks/{symbol}/bars",
        ["timeframe", "start", "end", "limit", "page_token", "sort"],
        None,
    ),
    ("GET", "/v2/stocks/quotes", ["symbols", "start", "end", "limit", "page_token", "sort"], None),
    ("GET", "/v2/stocks/{symbol}/quotes", ["start", "end", "limit", "page_token", "sort"], None),
    ("GET", "/v2/stocks/trades", ["symbols", "start", "end", "limit", "page_token", "sort"], None),
    ("GET", "/v2/stocks/{symbol}/trades", ["start", "end", "limit", "page_token", "sort"], None),
    ("GET", "/v2/stocks/snapshots", ["symbols", "feed"], None),
    ("GET", "/v2/stocks/{symbol}/snapshot", ["feed"], None),
]
VARIED_EXAMPLES = 250


@st.composite
def v2_requests(draw):
    method, path, names, body = draw(st.sampled_from(ROUTES))
    path = path.format(
        id=draw(IDS),
        symbol=draw(SYMBOL),
        activity=draw(st.sampled_from(["FILL", "CSD", "DIV", "fill", "BOGUS"])),
    )
    chosen = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    query = {name: draw(PARAMETERS[name]) for name in chosen}
    return method, path, query, (draw(body) if body is not None else None)


@pytest.fixture(scope="module")
def figures():
    counts: Counter = Counter()
    yield counts
    if counts:
        print(
            f"\n/v2 against Alpaca's fields: {counts['requests']} varied requests, "
            f"{counts['2xx']} 2xx checked field by field, {counts['4xx']} 4xx checked as "
            f"Alpaca's error body, {counts['5xx']} responses >= 500"
        )


@hypothesis_settings(
    max_examples=VARIED_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure names its request
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(call=v2_requests())
def test_varied_requests_get_alpacas_fields_or_alpacas_errors(world, figures, call):
    method, path, query, body = call
    path = _fill_in(world, path)
    response = world.call(method, path, query, body)
    figures["requests"] += 1
    figures[f"{response.status_code // 100}xx"] += 1
    problems = answer_problems(method, path, response)
    assert problems == [], (method, path, query, body, problems)
