"""Market data v2 from the simulated market's path over HTTP: intraday bars that agree
across timeframes and with the quotes, the same in another process; today's daily bar;
latest bars; snapshots; historical quotes and trades with paging; intraday portfolio
history. The clock is pinned (`data.now`) so every check is exact; bad parameters are
Alpaca's 400/422 bodies, never a 500."""

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.money import ledger
from tests.factories import AccountFactory, fund
from trading.alpaca import data, portfolio
from trading.market import market_data
from trading.market.models import DailyClose, Security
from trading.orders.executions import ExecutionReport, apply_execution_report
from trading.orders.models import Execution
from trading.simulation.market import SimulatedMarket

from . import alpaca_entities
from .test_alpaca_api import buy, client_for
from .test_alpaca_errors import alpaca_body

pytestmark = pytest.mark.django_db
D = Decimal
NY = ZoneInfo("America/New_York")
ROOT = Path(__file__).resolve().parents[2]
# Alpaca's documented fields (tests/alpaca/alpaca_entities.py, from alpaca-docs).
BAR_FIELDS = set(alpaca_entities.BAR)  # bars-v2-item (+ n, vw)
QUOTE_FIELDS = set(alpaca_entities.QUOTE)  # quotes-v2-item (+ z)
TRADE_FIELDS = set(alpaca_entities.TRADE)  # trades-v2-item
SNAPSHOT_FIELDS = set(alpaca_entities.SNAPSHOT)
TUESDAY = "2026-11-24"  # a full session, 14:30 to 21:00 UTC
SESSION = f"start={TUESDAY}T14:00:00Z&end={TUESDAY}T21:00:00Z"


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


@pytest.fixture
def clock(monkeypatch):
    """The moment data is served for; Wednesday after the close unless a test moves it."""

    class Clock:
        at = ny(2026, 11, 25, 18, 0)

    pinned = Clock()
    monkeypatch.setattr(data, "now", lambda: pinned.at)
    return pinned


@pytest.fixture
def acme():
    return Security.objects.create(
        symbol="ACME", name="Acme", exchange="NYSE", reference_price=D("120.00")
    )


@pytest.fixture
def api():
    account = AccountFactory()
    fund(account, D("50000.00"))
    client = client_for(account)
    client.account = account
    return client


def quote_at(security, at):
    return SimulatedMarket().quote(security, at)


def test_intraday_bars_agree_across_timeframes_and_with_quotes(api, clock, acme):
    got = {}
    for timeframe, count in (("1Min", 390), ("5Min", 78), ("15Min", 26), ("1Hour", 7)):
        found = api.get(f"/v2/stocks/bars?symbols=ACME&timeframe={timeframe}&{SESSION}").json()
        bars = found["bars"]["ACME"]
        assert len(bars) == count and found["next_page_token"] is None, timeframe
        assert all(set(b) == BAR_FIELDS for b in bars)
        assert all(b["l"] <= min(b["o"], b["c"]) <= max(b["o"], b["c"]) <= b["h"] for b in bars)
        got[timeframe] = bars
    minute = got["1Min"]
    assert minute[0]["t"] == f"{TUESDAY}T14:30:00Z" and minute[-1]["t"] == f"{TUESDAY}T20:59:00Z"
    assert got["1Hour"][0]["t"] == f"{TUESDAY}T14:00:00Z"  # hours start on the hour
    for bars in got.values():
        assert sum(b["v"] for b in bars) == sum(b["v"] for b in minute)
        assert max(b["h"] for b in bars) == max(b["h"] for b in minute)
        assert (bars[0]["o"], bars[-1]["c"]) == (minute[0]["o"], minute[-1]["c"])
    for five, group in zip(got["5Min"], zip(*[iter(minute)] * 5, strict=True), strict=True):
        assert five["v"] == sum(b["v"] for b in group) and five["c"] == group[-1]["c"]
    # A minute bar's close is the quote's last price in its last step; the day's close too.
    for bar in minute[:3] + minute[200:203]:
        start = datetime.fromisoformat(bar["t"].replace("Z", "+00:00"))
        assert bar["c"] == float(quote_at(acme, start + timedelta(seconds=45)).last)
        assert bar["o"] == float(quote_at(acme, start).last)
    close, volume = SimulatedMarket().session_close(acme, datetime(2026, 11, 24).date())
    assert minute[-1]["c"] == float(close) and sum(b["v"] for b in minute) == volume


def test_bars_are_the_same_in_another_process(clock, acme):
    session = market_data.session_for(datetime(2026, 11, 24).date())
    here = [
        data.bar_dict(b)
        for b in market_data.bars_of_session(market_data.session_ticks(acme, session), 5)
    ]
    script = (
        "import django, json; django.setup();"
        "from decimal import Decimal; from datetime import date;"
        "from trading.alpaca.data import bar_dict; from trading.market import market_data as m;"
        "from trading.market.models import Security;"
        "s = Security(symbol='ACME', reference_price=Decimal('120.00'));"
        "t = m.session_ticks(s, m.session_for(date(2026, 11, 24)));"
        "print(json.dumps([bar_dict(b) for b in m.bars_of_session(t, 5)]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rushtrade.settings", "PYTHONHASHSEED": "7"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here


def test_daily_bars_end_with_todays_bar_so_far(api, clock, acme):
    clock.at = ny(2026, 11, 24, 12, 0, 7)
    for day, close in (("2026-11-20", "118.00"), ("2026-11-23", "121.00")):
        DailyClose.objects.create(security=acme, date=day, close=D(close), volume=5000)
    found = api.get("/v2/stocks/ACME/bars?timeframe=1Day&start=2026-11-20T00:00:00Z").json()
    days = found["bars"]
    assert [b["t"] for b in days] == [
        "2026-11-20T05:00:00Z",
        "2026-11-23T05:00:00Z",
        "2026-11-24T05:00:00Z",  # midnight New York time
    ]
    assert (days[1]["o"], days[1]["c"], days[1]["n"]) == (118.0, 121.0, None)
    now = quote_at(acme, clock.at)
    today = days[2]
    assert today["c"] == float(now.last) and today["v"] == now.volume and today["n"] > 0
    minute = api.get(f"/v2/stocks/ACME/bars?timeframe=1Min&start={TUESDAY}T14:30:00Z").json()
    assert len(minute["bars"]) == 151  # 9:30 to 12:00, the last one under way
    assert today["h"] == max(b["h"] for b in minute["bars"])


def test_latest_bar_while_open_and_closed(api, clock, acme):
    clock.at = ny(2026, 11, 24, 12, 0, 7)
    one = api.get("/v2/stocks/ACME/bars/latest").json()
    assert one["symbol"] == "ACME" and set(one["bar"]) == BAR_FIELDS
    assert one["bar"]["t"] == f"{TUESDAY}T17:00:00Z"
    assert one["bar"]["c"] == float(quote_at(acme, clock.at).last)
    clock.at = ny(2026, 11, 28, 10, 0)  # Saturday: Friday's early close at 13:00
    many = api.get("/v2/stocks/bars/latest?symbols=ACME,NOPE").json()["bars"]
    assert list(many) == ["ACME"] and many["ACME"]["t"] == "2026-11-27T17:59:00Z"
    close, _ = SimulatedMarket().session_close(acme, datetime(2026, 11, 27).date())
    assert many["ACME"]["c"] == float(close)
    assert api.get("/v2/stocks/NOPE/bars/latest").status_code == 404


def test_snapshots(api, clock, acme):
    clock.at = ny(2026, 11, 24, 12, 0, 7)
    many = api.get("/v2/stocks/snapshots?symbols=ACME,NOPE").json()
    assert list(many) == ["ACME"] and set(many["ACME"]) == SNAPSHOT_FIELDS
    snap = many["ACME"]
    assert (
        set(snap["latestQuote"]) >= QUOTE_FIELDS - {"z"}
        and set(snap["latestTrade"]) == TRADE_FIELDS
    )
    assert snap["minuteBar"]["t"] == f"{TUESDAY}T17:00:00Z"
    assert snap["dailyBar"]["t"] == "2026-11-24T05:00:00Z"
    assert snap["prevDailyBar"]["t"] == "2026-11-23T05:00:00Z"
    assert snap["prevDailyBar"]["c"] == snap["dailyBar"]["o"]  # a session opens at the last close
    one = api.get("/v2/stocks/ACME/snapshot").json()
    assert one["symbol"] == "ACME" and one["dailyBar"] == snap["dailyBar"]
    assert api.get("/v2/stocks/NOPE/snapshot").status_code == 404


def test_historical_quotes_are_the_quotes_of_those_moments_and_page(api, clock, acme):
    window = f"start={TUESDAY}T15:00:00Z&end={TUESDAY}T15:04:59Z"
    found = api.get(f"/v2/stocks/ACME/quotes?{window}").json()
    quotes = found["quotes"]
    assert len(quotes) == 20 and found["next_page_token"] is None  # one per 15 s
    assert all(set(q) == QUOTE_FIELDS for q in quotes)
    for q in quotes[:4]:
        at = datetime.fromisoformat(q["t"].replace("Z", "+00:00"))
        expected = quote_at(acme, at)
        assert (q["bp"], q["ap"], q["bs"], q["as"]) == (
            float(expected.bid),
            float(expected.ask),
            expected.bid_size,
            expected.ask_size,
        )
    paged, token = [], None
    while True:
        url = f"/v2/stocks/quotes?symbols=ACME&{window}&limit=7"
        page = api.get(url + (f"&page_token={token}" if token else "")).json()
        paged += page["quotes"].get("ACME", [])
        token = page["next_page_token"]
        if token is None:
            break
    assert paged == quotes
    desc = api.get(f"/v2/stocks/ACME/quotes?{window}&sort=desc").json()["quotes"]
    assert desc == quotes[::-1]


def test_historical_trades_add_up_to_the_volume(api, clock, acme):
    found = api.get(f"/v2/stocks/ACME/trades?{SESSION}&limit=10000").json()
    trades = found["trades"]
    assert all(set(t) == TRADE_FIELDS for t in trades)
    _, volume = SimulatedMarket().session_close(acme, datetime(2026, 11, 24).date())
    assert sum(t["s"] for t in trades) == volume
    assert trades[-1]["t"] == f"{TUESDAY}T21:00:00Z" and "6" in trades[-1]["c"]  # closing print
    assert len({t["i"] for t in trades}) == len(trades)
    two = api.get(f"/v2/stocks/trades?symbols=ACME,ZZZ&{SESSION}&limit=5").json()
    assert len(two["trades"]["ACME"]) == 5 and two["next_page_token"]


def test_many_symbols_page_symbol_by_symbol(api, clock, acme):
    Security.objects.create(symbol="BETA", name="Beta", exchange="NASDAQ", reference_price=D("30"))
    window = f"timeframe=1Hour&{SESSION}"
    seen, token = {}, None
    while True:
        url = f"/v2/stocks/bars?symbols=ACME,BETA&{window}&limit=4"
        page = api.get(url + (f"&page_token={token}" if token else "")).json()
        for symbol, bars in page["bars"].items():
            seen.setdefault(symbol, []).extend(bars)
        token = page["next_page_token"]
        if not token:
            break
    whole = api.get(f"/v2/stocks/bars?symbols=ACME,BETA&{window}").json()["bars"]
    assert seen == whole and [len(v) for v in whole.values()] == [7, 7]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("timeframe=1Week", 422, 42210000),
        ("timeframe=1Month", 422, 42210000),
        ("timeframe=7Sec", 400, 40010001),
        ("timeframe=60Min", 400, 40010001),
        ("timeframe=24Hour", 400, 40010001),
        ("timeframe=2Day", 400, 40010001),
        ("timeframe=", 400, 40010001),
        ("timeframe=1Min&limit=0", 400, 40010001),
        ("timeframe=1Min&limit=10001", 400, 40010001),
        ("timeframe=1Min&limit=ten", 400, 40010001),
        ("timeframe=1Min&sort=up", 400, 40010001),
        ("timeframe=1Min&start=yesterday", 400, 40010001),
        ("timeframe=1Min&page_token=%%%", 400, 40010001),
        ("timeframe=1Min&page_token=bm9wZQ", 400, 40010001),
        ("timeframe=1Min&start=2026-11-25T00:00:00Z&end=2026-11-24T00:00:00Z", 422, 40010001),
        ("timeframe=1Min&end=9999-01-01T00:00:00Z", 422, 40010001),
    ],
)
def test_bad_bar_parameters(api, clock, acme, query, status, code):
    response = api.get(f"/v2/stocks/bars?symbols=ACME&{query}")
    assert response.status_code == status, response.content
    assert alpaca_body(response)["code"] == code


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(
        ["/v2/stocks/bars", "/v2/stocks/quotes", "/v2/stocks/trades", "/v2/stocks/ACME/bars"]
    ),
    params=st.dictionaries(
        st.sampled_from(["timeframe", "start", "end", "limit", "page_token", "sort", "symbols"]),
        TEXT | st.sampled_from(["1Min", "15Min", "1Hour", "1Day", "2026-11-24T15:00:00Z", "3"]),
    ),
)
def test_no_parameters_make_a_500(api, clock, acme, path, params):
    response = api.get(path, params)
    assert response.status_code < 500, (path, params, response.content[:300])
    assert "code" in response.json() or response.status_code == 200


# --- Portfolio history ------------------------------------------------------------------------


@pytest.fixture
def pinned_time(monkeypatch):
    """Pin django.utils.timezone.now (what auto_now_add and the order path read) so
    cash and fills get the times a test gives them."""
    from django.utils import timezone as django_timezone

    real = django_timezone.now

    class Pin:
        at = None

    pin = Pin()
    monkeypatch.setattr(django_timezone, "now", lambda: pin.at or real())
    return pin


def test_intraday_portfolio_history_replays_cash_and_positions(acme, market, pinned_time):
    pinned_time.at = ny(2026, 11, 20, 9, 0)
    account = AccountFactory()
    fund(account, D("50000.00"))
    market.last["ACME"] = D("120.00")
    fill_time = ny(2026, 11, 24, 11, 2, 30)
    pinned_time.at = fill_time
    order = buy(account, 10)
    apply_execution_report(
        ExecutionReport(
            exec_id="E-1",
            cl_ord_id=order.cl_ord_id,
            exec_type="2",
            ord_status="2",
            last_qty=10,
            last_px=D("120.00"),
            cum_qty=10,
            leaves_qty=0,
        )
    )
    pinned_time.at = None
    assert Execution.objects.get(order=order).executed_at == fill_time
    at = ny(2026, 11, 24, 16, 30)
    history = portfolio.portfolio_history(
        account, period="1D", timeframe="5Min", date_end="2026-11-24", at=at
    )
    assert history["timeframe"] == "5Min" and len(history["timestamp"]) == 78
    assert history["timestamp"][0] == int(ny(2026, 11, 24, 9, 30).timestamp())
    assert history["base_value"] == 50000.0
    cash_after = ledger.balances(account).cash
    ticks = market_data.session_ticks(acme, market_data.session_for(fill_time.date()))
    for index, stamp in enumerate(history["timestamp"]):
        end = min(datetime.fromtimestamp(stamp, tz=NY) + timedelta(minutes=5), ticks.session.close)
        if end < fill_time:
            assert history["equity"][index] == 50000.0
        else:
            value = cash_after + 10 * D(str(ticks.price_at(end)))
            assert history["equity"][index] == float(value.quantize(D("0.01"))), index
    assert history["profit_loss"][-1] == round(history["equity"][-1] - 50000.0, 2)
    hourly = portfolio.portfolio_history(
        account, period="1W", timeframe="1H", date_end="2026-11-24", at=at
    )
    # Wed 18th to Tue 24th: 5 sessions of 7 hourly windows (9:30, 10:30, ... 15:30).
    assert len(hourly["timestamp"]) == 5 * 7 and hourly["equity"][0] == 0.0
    assert hourly["profit_loss"][-1] == history["profit_loss"][-1]  # deposits are not profit


def test_portfolio_history_timeframes_over_http(api, acme):
    data_1w = api.get("/v2/account/portfolio/history?period=1W&timeframe=15Min").json()
    assert data_1w["timeframe"] == "15Min" and data_1w["equity"]
    assert set(data_1w) >= {"timestamp", "equity", "profit_loss", "profit_loss_pct", "base_value"}
    # The deposit was posted after the last session closed, so the sessions replayed
    # (those of the last week up to now) show no cash yet.
    assert api.get("/v2/account/portfolio/history?period=1D").json()["timeframe"] == "1Min"
    assert api.get("/v2/account/portfolio/history?period=2W&timeframe=1H").status_code == 200
    today = api.get("/v2/account/portfolio/history?period=1W&timeframe=1D").json()
    assert today["equity"] == [50000.0]  # no snapshot yet: today's point
    for bad in ("period=1M&timeframe=1Min", "period=1W&timeframe=2H", "timeframe=1Week"):
        response = api.get(f"/v2/account/portfolio/history?{bad}")
        assert response.status_code == 422 and alpaca_body(response)["code"] == 40010001
