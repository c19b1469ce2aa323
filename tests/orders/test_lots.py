"""Tax lots, FIFO, replayed from the executions: basis with the buy commission, proceeds
net of the sale's costs, long and short term, busted fills left out, shares the
executions do not explain flagged; the realized-gains page and CSV, the overview's
realized P&L, and nobody sees another customer's."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, UserFactory, fund
from trading.orders import entry
from trading.orders.executions import CORRECT, ExecutionReport, apply_execution_report
from trading.orders.lots import is_long_term, replay
from trading.orders.models import Execution, Position

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def account(acme):
    account = AccountFactory()
    fund(account, D("20000.00"))
    return account


def trade(account, side, qty, price, when, exec_id=None):
    order, _ = entry.place_order(
        account,
        account.holders.get(),
        symbol="ACME",
        side=side,
        order_type="limit",
        time_in_force="day",
        qty=qty,
        limit_price="100.00",
    )
    apply_execution_report(
        ExecutionReport(
            exec_id=exec_id or f"E{order.pk}",
            cl_ord_id=order.cl_ord_id,
            exec_type="2",
            ord_status="2",
            last_qty=qty,
            last_px=D(price),
            cum_qty=qty,
            leaves_qty=0,
            transact_time=when,
        )
    )
    return order


def at(y, m, d):
    return datetime(y, m, d, 16, 0, tzinfo=UTC)


def test_fifo_sells_the_oldest_shares_first_with_costs_in_basis_and_proceeds(account):
    trade(account, "buy", 10, "80", at(2024, 3, 1))
    trade(account, "buy", 10, "100", at(2025, 6, 2))
    sell = trade(account, "sell", 15, "110", at(2025, 6, 10))
    sold = Execution.objects.get(order=sell)
    book = replay(account)
    first, second = book.disposals
    assert (first.qty, first.acquired_on, first.sold_on) == (
        10,
        date(2024, 3, 1),
        date(2025, 6, 10),
    )
    assert first.cost_basis == D("801.00")  # 10 x 80 + the $1 commission
    assert first.term == "long"
    assert (second.qty, second.acquired_on, second.term) == (5, date(2025, 6, 2), "short")
    assert second.cost_basis == D("500.50")  # half of 10 x 100 + $1
    net = 15 * D("110") - sold.commission - sold.fees
    assert first.proceeds + second.proceeds == net
    assert first.proceeds == (net * 10 / 15).quantize(D("0.01"))
    assert book.realized(2025) == net - D("801.00") - D("500.50")
    assert book.realized(2024) == 0
    (left,) = book.open_lots(sell.security_id)
    assert (left.remaining, left.cost, left.acquired_on) == (5, D("500.50"), date(2025, 6, 2))
    assert Position.objects.get().qty == 5


def test_a_busted_sale_realizes_nothing_and_a_corrected_one_counts_at_its_new_price(account):
    trade(account, "buy", 10, "90", at(2025, 1, 6))
    sell = trade(account, "sell", 10, "95", at(2025, 2, 3), exec_id="S1")
    apply_execution_report(
        ExecutionReport(
            exec_id="S1C",
            cl_ord_id=sell.cl_ord_id,
            exec_type="G",
            ord_status="2",
            last_qty=10,
            last_px=D("97"),
            cum_qty=10,
            leaves_qty=0,
            exec_trans_type=CORRECT,
            exec_ref_id="S1",
            transact_time=at(2025, 2, 3),
        )
    )
    (disposal,) = replay(account).disposals
    assert disposal.proceeds + Execution.objects.get(
        exec_id="S1C"
    ).commission + Execution.objects.get(exec_id="S1C").fees == D("970.00")


def test_shares_not_bought_here_are_a_flagged_lot(account, acme):
    Position.objects.create(account=account, security=acme, qty=40, avg_cost=D("50.00"))
    (lot,) = replay(account).open_lots(acme.pk)
    assert lot.unknown_basis and lot.acquired_on is None
    assert (lot.remaining, lot.cost) == (40, D("2000.00"))
    sell = trade(account, "sell", 10, "60", at(2025, 4, 1))
    (disposal,) = replay(account).disposals
    assert disposal.cost_basis is None and disposal.gain is None and disposal.term == "unknown"
    assert disposal.sell_execution_id == Execution.objects.get(order=sell).pk


def test_holding_period_counts_from_the_day_after():
    assert is_long_term(date(2024, 3, 1), date(2025, 3, 1)) is False
    assert is_long_term(date(2024, 3, 1), date(2025, 3, 2)) is True
    assert is_long_term(date(2024, 2, 29), date(2025, 3, 1)) is False
    assert is_long_term(date(2024, 2, 29), date(2025, 3, 2)) is True
    assert is_long_term(None, date(2025, 3, 2)) is None


def test_the_report_page_csv_and_overview(client, account):
    trade(account, "buy", 10, "80", at(2024, 3, 1))
    trade(account, "sell", 4, "110", at(2025, 6, 10))
    client.force_login(account.holders.get())
    number = account.account_number
    page = client.get(reverse("account-gains", args=[number]), {"year": "2025"})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="disposal"') == 1 and html.count('data-testid="open-lot"') == 1
    gain = replay(account).realized(2025)
    assert f"+${gain:,.2f}" in html
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(reverse("account-gains-csv", args=[number, 2025])).content.decode()
            )
        )
    )
    assert len(rows) == 1
    assert rows[0]["date_acquired"] == "2024-03-01" and rows[0]["term"] == "long"
    assert D(rows[0]["gain"]) == gain and rows[0]["quantity"] == "4"
    assert client.get(reverse("account-gains", args=[number]), {"year": "abc"}).status_code == 200
    empty = client.get(reverse("account-gains-csv", args=[number, 2019])).content.decode()
    assert empty.strip().count("\n") == 0  # the header only
    overview = client.get(reverse("account-overview", args=[number])).content.decode()
    assert 'data-testid="realized-all"' in overview and f"+${gain:,.2f}" in overview


def test_another_customer_gets_404(client, account):
    trade(account, "buy", 10, "80", at(2024, 3, 1))
    client.force_login(UserFactory())
    number = account.account_number
    assert client.get(reverse("account-gains", args=[number])).status_code == 404
    assert client.get(reverse("account-gains-csv", args=[number, 2024])).status_code == 404
