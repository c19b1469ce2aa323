"""Securities and market data: the security master loader, the simulated market's
quotes, the NYSE session, daily closes, the quotes API, the quote box and admin."""

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from tests.factories import SecurityFactory, StaffFactory, UserFactory
from trading.market import market_data
from trading.market.market_data import (
    Quote,
    get_previous_close,
    get_quote,
    get_quotes,
    is_market_open,
    record_daily_closes,
    set_quote_override,
)
from trading.market.models import DailyClose, Security
from trading.market.securities import load_securities
from trading.simulation.market import SimulatedMarket

pytestmark = pytest.mark.django_db
D = Decimal
NY = ZoneInfo("America/New_York")
ROOT = Path(__file__).resolve().parents[2]


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


TUESDAY = date(2026, 11, 24)  # a normal session, 9:30-16:00
FRIDAY = date(2026, 11, 20)
SATURDAY = date(2026, 11, 21)
THANKSGIVING = date(2026, 11, 26)  # NYSE closed
BLACK_FRIDAY = date(2026, 11, 27)  # early close at 13:00


@pytest.fixture
def aapl():
    return SecurityFactory(symbol="AAPL", name="Apple Inc.", exchange="NASDAQ")


CENT = D("0.01")


def on_tick(price: Decimal, increment: Decimal = CENT) -> bool:
    return price % increment == 0


# --- Security master ---------------------------------------------------------------


def test_loader_creates_us_listings_with_etfs_and_is_idempotent():
    created, updated = load_securities()
    assert created >= 1500 and updated == 0
    assert Security.objects.count() == created
    assert Security.objects.get(symbol="MMM").exchange == "NYSE"
    apple = Security.objects.get(symbol="AAPL")
    assert (apple.exchange, apple.isin, apple.name) == ("NASDAQ", "US0378331005", "Apple Inc.")
    assert not apple.is_etf
    assert Security.objects.get(symbol="KO").exchange == "NYSE"
    assert Security.objects.get(symbol="BRK.B").exchange == "NYSE"
    etfs = {
        "SPY": "ARCA",
        "QQQ": "NASDAQ",
        "IWM": "ARCA",
        "DIA": "ARCA",
        "TLT": "NASDAQ",
        "AGG": "ARCA",
        "BND": "NASDAQ",
        "LQD": "ARCA",
        "HYG": "ARCA",
    }
    sectors = ["XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY"]
    etfs |= dict.fromkeys(sectors, "ARCA")
    found = {s.symbol: s for s in Security.objects.filter(symbol__in=list(etfs))}
    assert {symbol: s.exchange for symbol, s in found.items()} == etfs
    assert all(s.is_etf and s.status == "active" and s.tradable for s in found.values())
    assert Security.objects.filter(is_etf=True).count() > 1000
    assert set(Security.objects.values_list("exchange", flat=True)) == {
        "NYSE",
        "NASDAQ",
        "ARCA",
        "AMEX",
        "BATS",
    }
    # Left out: test issues, warrants, rights, units, preferreds, notes.
    stocks = Security.objects.filter(is_etf=False)  # ETFs may hold preferreds or notes
    names = " ".join(stocks.values_list("name", flat=True)).lower()
    for word in (" warrant", " preferred", " rights", "test issue", "notes due"):
        assert word not in names, word
    assert not Security.objects.filter(symbol__contains="$").exists()
    for security in Security.objects.all():
        assert D("8") <= security.reference_price <= D("600")
        assert security.reference_price == security.reference_price.quantize(D("0.01"))

    prices = dict(Security.objects.values_list("symbol", "reference_price"))
    assert load_securities() == (0, 0)
    assert dict(Security.objects.values_list("symbol", "reference_price")) == prices


def test_a_loaded_etf_is_quoted_by_the_simulated_market():
    load_securities(("DOW JONES",))
    call_command("load_securities")
    spy = Security.objects.get(symbol="SPY")
    quote = SimulatedMarket().quote(spy, ny(2026, 11, 24, 11, 0))
    assert quote.market_open and quote.bid < quote.ask and quote.last > 0
    assert SimulatedMarket().quote(spy, ny(2026, 11, 24, 11, 0)) == quote


def test_loader_updates_names_and_keeps_staff_flags(capsys):
    load_securities(("DOW JONES",), directory=False)
    Security.objects.filter(symbol="AAPL").update(name="Old name", halted=True, tradable=False)
    call_command("load_securities", "--index", "DOW JONES")
    assert "0 created, 1 updated" in capsys.readouterr().out
    apple = Security.objects.get(symbol="AAPL")
    assert apple.name == "Apple Inc."
    assert apple.halted and not apple.tradable
    assert Security.objects.count() < 40  # --index loads that index's members only


# --- The session ---------------------------------------------------------------------


def test_market_hours_on_a_normal_day():
    assert is_market_open(ny(2026, 11, 24, 9, 30))
    assert is_market_open(ny(2026, 11, 24, 12, 0))
    assert is_market_open(ny(2026, 11, 24, 15, 59, 59))
    assert not is_market_open(ny(2026, 11, 24, 9, 29, 59))  # before the open
    assert not is_market_open(ny(2026, 11, 24, 16, 0))
    assert not is_market_open(ny(2026, 11, 24, 20, 0))


def test_market_closed_on_weekends_holidays_and_after_an_early_close():
    assert not is_market_open(ny(2026, 11, 21, 12, 0))  # Saturday
    assert not is_market_open(ny(2026, 11, 26, 12, 0))  # Thanksgiving
    assert is_market_open(ny(2026, 11, 27, 12, 59))
    assert not is_market_open(ny(2026, 11, 27, 13, 0))  # the day after: closes at 13:00
    # July 3, 2026 is the observed Independence Day holiday (the 4th is a Saturday).
    assert not is_market_open(ny(2026, 7, 3, 11, 0))
    # Naive times are New York time.
    assert is_market_open(datetime(2026, 11, 24, 10, 0))


# --- Quotes ------------------------------------------------------------------------------


def test_quote_is_deterministic(aapl):
    at = ny(2026, 11, 24, 11, 17, 42)
    first = get_quote("AAPL", at)
    market_data.quote_cache().clear()
    second = get_quote("aapl", at)
    assert isinstance(first, Quote)
    assert first == second
    assert first.symbol == "AAPL" and first.market_open
    # The same 15-second step gives the same quote.
    assert get_quote("AAPL", at + timedelta(seconds=2)) == first


def test_quote_is_the_same_in_another_process():
    """The web, the worker and the routing engine simulator agree without talking: the
    price is a function of (symbol, reference price, time) only, not of the process."""
    security = Security(symbol="MSFT", reference_price=D("412.37"), price_increment=D("0.01"))
    at = ny(2026, 11, 24, 14, 3, 5)
    here = SimulatedMarket().quote(security, at)
    script = (
        "import django, datetime, decimal, zoneinfo; django.setup()\n"
        "from trading.simulation.market import SimulatedMarket\n"
        "from trading.models import Security\n"
        "s = Security(symbol='MSFT', reference_price=decimal.Decimal('412.37'),"
        " price_increment=decimal.Decimal('0.01'))\n"
        "at = datetime.datetime(2026, 11, 24, 14, 3, 5,"
        " tzinfo=zoneinfo.ZoneInfo('America/New_York'))\n"
        "q = SimulatedMarket().quote(s, at)\n"
        "print(q.bid, q.ask, q.last, q.bid_size, q.ask_size, q.volume)\n"
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "rushtrade.settings",
        "DEBUG": "1",
        "PYTHONHASHSEED": "12345",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    expected = f"{here.bid} {here.ask} {here.last} {here.bid_size} {here.ask_size} {here.volume}"
    assert result.stdout.strip().splitlines()[-1] == expected


def test_quotes_are_on_the_tick_with_bid_below_ask():
    securities = [SecurityFactory(symbol=f"T{n}") for n in range(5)]
    securities.append(SecurityFactory(symbol="NICKEL", price_increment=D("0.05")))
    for minute in range(0, 390, 13):
        at = ny(2026, 11, 24, 9, 30) + timedelta(minutes=minute)
        quotes = get_quotes([s.symbol for s in securities], at)
        assert len(quotes) == len(securities)
        for security in securities:
            quote = quotes[security.symbol]
            assert D("0") < quote.bid < quote.ask
            assert quote.bid <= quote.last <= quote.ask
            assert quote.ask - quote.bid <= 10 * security.price_increment
            for price in (quote.bid, quote.ask, quote.last):
                assert on_tick(price, security.price_increment), (security.symbol, price)
                assert price.as_tuple().exponent == -4
            assert quote.bid_size % 100 == 0 and quote.ask_size % 100 == 0
            assert quote.bid_size > 0 and quote.ask_size > 0


def test_quote_moves_during_the_session_and_volume_accumulates(aapl):
    quotes = [get_quote("AAPL", ny(2026, 11, 24, 10, minute)) for minute in range(10)]
    assert all(quote.market_open for quote in quotes)
    assert len({quote.last for quote in quotes}) > 3
    volumes = [quote.volume for quote in quotes]
    assert volumes == sorted(volumes) and volumes[0] < volumes[-1]
    # Prices stay near the reference (a random walk around it, not away from it).
    assert aapl.reference_price * D("0.6") < quotes[0].last < aapl.reference_price * D("1.6")


def test_quote_is_frozen_at_the_last_close_outside_hours(aapl):
    friday_close = get_quote("AAPL", ny(2026, 11, 20, 16, 0))
    assert not friday_close.market_open
    assert friday_close.timestamp == ny(2026, 11, 20, 16, 0)
    for at in (
        ny(2026, 11, 20, 19, 30),  # Friday evening
        ny(2026, 11, 21, 12, 0),  # Saturday
        ny(2026, 11, 23, 9, 29),  # Monday before the open
    ):
        assert get_quote("AAPL", at) == friday_close
    assert get_quote("AAPL", ny(2026, 11, 23, 9, 30)).market_open

    record_daily_closes(FRIDAY)
    stored = DailyClose.objects.get(security=aapl, date=FRIDAY)
    assert (stored.close, stored.volume) == (friday_close.last, friday_close.volume)

    wednesday_close = get_quote("AAPL", ny(2026, 11, 25, 16, 5))
    thanksgiving = get_quote("AAPL", ny(2026, 11, 26, 11, 0))
    assert thanksgiving == wednesday_close and not thanksgiving.market_open
    # The day after Thanksgiving closes at 13:00: after that, that close, frozen.
    early = get_quote("AAPL", ny(2026, 11, 27, 14, 30))
    assert not early.market_open and early.timestamp == ny(2026, 11, 27, 13, 0)


def test_session_opens_at_the_previous_close(aapl):
    monday_open = get_quote("AAPL", ny(2026, 11, 23, 9, 30))
    friday_close = get_quote("AAPL", ny(2026, 11, 20, 17, 0))
    assert monday_open.last == friday_close.last
    assert get_previous_close("AAPL", ny(2026, 11, 23, 11, 0)) == friday_close.last
    assert get_previous_close("AAPL", ny(2026, 11, 23, 8, 0)) != friday_close.last


def test_unknown_symbol_has_no_quote(aapl):
    assert get_quote("NOPE") is None
    assert set(get_quotes(["AAPL", "NOPE", " aapl "])) == {"AAPL"}


def test_pinned_price(aapl):
    set_quote_override("AAPL", D("150.00"))
    for at in (None, ny(2026, 11, 24, 10, 0), ny(2026, 11, 21, 10, 0)):
        quote = get_quote("AAPL", at)
        assert quote.last == D("150.0000")
        assert quote.bid <= quote.last <= quote.ask and quote.bid < quote.ask
    record_daily_closes(FRIDAY)
    assert DailyClose.objects.get(security=aapl, date=FRIDAY).close == D("150.00")
    set_quote_override("AAPL", None)
    assert get_quote("AAPL", ny(2026, 11, 24, 10, 0)).last != D("150.00")


class FixedMarket(SimulatedMarket):
    """A provider that always quotes 42.00."""

    def quote(self, security, at):
        quote = super().quote(security, at)
        return market_data.quote_around(
            security.symbol,
            security.price_increment,
            D("42.00"),
            volume=0,
            timestamp=at,
            market_open=quote.market_open,
        )


def test_provider_is_a_setting(aapl, settings):
    settings.MARKET_DATA_PROVIDER = f"{__name__}.FixedMarket"
    assert isinstance(market_data.provider(), FixedMarket)
    assert get_quote("AAPL").last == D("42.00")


# --- Daily closes ----------------------------------------------------------------------


def test_record_daily_closes_is_idempotent():
    securities = [SecurityFactory() for _ in range(3)]
    SecurityFactory(status=Security.Status.INACTIVE)
    assert record_daily_closes(FRIDAY) == 3
    first = list(DailyClose.objects.order_by("security_id").values_list("security", "close"))
    assert record_daily_closes(FRIDAY) == 3
    again = list(DailyClose.objects.order_by("security_id").values_list("security", "close"))
    assert again == first
    assert [row[0] for row in first] == [s.pk for s in securities]
    for close in DailyClose.objects.all():
        assert close.volume > 0 and on_tick(close.close)


def test_record_daily_closes_only_for_sessions_that_have_closed():
    SecurityFactory()
    assert record_daily_closes(SATURDAY) == 0
    assert record_daily_closes(THANKSGIVING) == 0
    assert record_daily_closes(date.today() + timedelta(days=7)) == 0
    assert record_daily_closes(BLACK_FRIDAY - timedelta(days=366)) == 1  # any past session
    assert not DailyClose.objects.filter(date__in=[SATURDAY, THANKSGIVING]).exists()


def test_daily_closes_task_records_the_last_closed_session():
    from trading.tasks import record_daily_closes as task

    SecurityFactory()
    assert task.delay().get() == 1
    assert DailyClose.objects.get().date == market_data.last_closed_session().day


def test_daily_closes_are_in_the_beat_schedule():
    task = PeriodicTask.objects.get(task="trading.tasks.record_daily_closes")
    assert task.enabled
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("10", "16", "1-5")
    assert str(crontab.timezone) == "America/New_York"


# --- API ---------------------------------------------------------------------------------


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


def test_quotes_api(api, aapl):
    SecurityFactory(symbol="MSFT")
    set_quote_override("AAPL", D("123.45"))  # the API and the test may read different steps
    response = api.get("/api/v1/quotes", {"symbols": "aapl, MSFT,AAPL"})
    assert response.status_code == 200, response.json()
    quotes = response.json()["quotes"]
    assert set(quotes) == {"AAPL", "MSFT"}
    quote = quotes["AAPL"]
    assert set(quote) == {
        "bid",
        "ask",
        "last",
        "bid_size",
        "ask_size",
        "volume",
        "timestamp",
        "market_open",
    }
    assert quote["last"] == "123.4500"
    assert isinstance(quote["bid"], str) and D(quote["bid"]) < D(quote["ask"])
    assert quote["market_open"] is is_market_open()
    assert D(quotes["MSFT"]["last"]) > 0


def test_quotes_api_names_unknown_symbols(api, aapl):
    response = api.get("/api/v1/quotes", {"symbols": "AAPL,ZZZZ,QQQQQ"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_symbol"
    assert body["fields"]["symbols"]["code"] == "unknown_symbol"
    assert "ZZZZ, QQQQQ" in body["fields"]["symbols"]["message"]


def test_quotes_api_refuses_too_many_or_none(api):
    too_many = ",".join(f"S{n}" for n in range(101))
    response = api.get("/api/v1/quotes", {"symbols": too_many})
    assert response.status_code == 400
    assert response.json()["fields"]["symbols"]["code"] == "too_many_symbols"
    for params in ({}, {"symbols": " , "}):
        response = api.get("/api/v1/quotes", params)
        assert response.status_code == 400
        assert response.json()["fields"]["symbols"]["code"] == "required"


def test_quotes_api_needs_authentication(aapl):
    response = APIClient().get("/api/v1/quotes", {"symbols": "AAPL"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- Quote box ----------------------------------------------------------------------------


def test_quote_box(client, aapl):
    client.force_login(UserFactory())
    previous_close = get_previous_close("AAPL")
    set_quote_override("AAPL", previous_close + D("1234.50"))
    response = client.get(reverse("quote", args=["aapl"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-get="/quotes/AAPL"' in html
    assert 'hx-trigger="every 5s"' in html and 'hx-swap="outerHTML"' in html
    assert f"${previous_close + D('1234.50'):,.2f}" in html
    assert f"+1,234.50 (+{D('1234.50') / previous_close * 100:.2f}%)" in html
    assert 'data-testid="bid"' in html and 'data-testid="ask"' in html
    assert ("Market open" if is_market_open() else "Market closed") in html
    assert client.get(reverse("quote", args=["NOPE"])).status_code == 404


def test_quote_box_needs_login(client, aapl):
    response = client.get(reverse("quote", args=["AAPL"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Admin ------------------------------------------------------------------------------------


def test_staff_halts_a_symbol_from_the_list(client, aapl):
    other = SecurityFactory(symbol="MSFT")
    client.force_login(StaffFactory())
    changelist = reverse("admin:trading_security_changelist")
    page = client.get(changelist, {"q": "AAPL"})
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    response = client.post(
        changelist,
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-0-id": aapl.pk,
            "form-0-tradable": "on",
            "form-0-halted": "on",
            "form-1-id": other.pk,
            "form-1-halted": "",  # tradable unchecked: customers may no longer open orders
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    aapl.refresh_from_db()
    other.refresh_from_db()
    assert aapl.halted and aapl.tradable
    assert not other.halted and not other.tradable
    assert client.get(changelist, {"halted__exact": "1"}).context["cl"].result_count == 1


def test_daily_closes_are_read_only_in_admin(client, aapl):
    record_daily_closes(FRIDAY)
    client.force_login(StaffFactory())
    close = DailyClose.objects.get()
    assert client.get(reverse("admin:trading_dailyclose_changelist")).status_code == 200
    page = client.get(reverse("admin:trading_dailyclose_change", args=[close.pk]))
    assert page.status_code == 200 and 'name="close"' not in page.content.decode()
    assert client.get(reverse("admin:trading_dailyclose_add")).status_code == 403
