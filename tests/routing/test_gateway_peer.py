"""The gateway against a routing engine we did not write (tests/routing/peer_engine.py, a
bare QuickFIX acceptor that behaves as other engines may): ExecIDs that start again at 1,
fills with no acknowledgement, session and business rejects, unsolicited cancels, busts
and corrections, partial fills out of order, resends, unanswered orders, two gateways.
Every test ends with the ledger sound and the holds exact."""

import logging
import threading
import time
from decimal import Decimal

import pytest
import quickfix as qf
from django.db import connection
from django.urls import reverse

from accounts.money import ledger
from tests.factories import AccountFactory, StaffFactory, fund
from tests.routing.peer_engine import PeerProcess
from trading.orders import entry
from trading.orders.models import Execution, OrderStatus, Position
from trading.routing import gateway
from trading.routing.models import InboundMessage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]
D = Decimal
WAIT = 30


def until(predicate, what="the condition", timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    assert predicate(), f"timed out waiting for {what}"


class Gateway:
    """The portal's gateway in threads of the test process (sending, applying), on a
    session of its own to the peer; its store survives restarts like the real one's."""

    def __init__(self, tmp_path, peer, *, sender="RUSHTRADE", partition="0/1"):
        self.tmp, self.peer, self.sender, self.partition = tmp_path, peer, sender, partition
        self.engine = None

    def start(self):
        logons = self.peer.control("session")["logons"]
        self.stop_event = threading.Event()
        self.app = gateway.Gateway(partition=self.partition)
        config = gateway.gateway_config(
            port=self.peer.port,
            host="127.0.0.1",
            sender_comp_id=self.sender,
            store_path=str(self.tmp / f"gw-{self.sender}-store"),
            log_path=str(self.tmp / f"gw-{self.sender}-log"),
            heartbeat_interval=5,
            reconnect_interval=1,
        )
        self.engine = gateway.start_engine(self.app, config)
        self.threads = [
            threading.Thread(target=target, args=(self.stop_event, self.app), daemon=True)
            for target in (gateway.serve, gateway.apply_inbox)
        ]
        for thread in self.threads:
            thread.start()
        assert self.app.logged_on.wait(WAIT), "the gateway did not log on"
        # Our side is logged on when the peer's Logon arrives, the peer's side a moment
        # later: a message the peer sends in between waits for a resend (PossDupFlag=Y).
        self.peer.control("wait_logon", count=logons + 1, timeout=WAIT)
        return self

    def stop(self):
        if self.engine is None:
            return
        self.stop_event.set()
        for thread in self.threads:
            thread.join(15)
        self.engine.close()
        self.app.db.close()
        self.engine = None


@pytest.fixture
def peer_factory(tmp_path):
    peers = []

    def make(behaviour=None, **kwargs):
        peer = PeerProcess(tmp_path / f"peer{len(peers)}", behaviour=behaviour or {}, **kwargs)
        peers.append(peer)
        return peer.start()

    yield make
    for peer in peers:
        peer.stop()


@pytest.fixture
def gateways(tmp_path):
    started = []

    def make(peer, **kwargs):
        gw = Gateway(tmp_path, peer, **kwargs).start()
        started.append(gw)
        return gw

    make.started = started
    yield make
    for gw in reversed(started):
        gw.stop()


@pytest.fixture
def account(acme):
    account = AccountFactory()
    fund(account, D("50000.00"))
    return account


def place(account, **kwargs):
    values = {
        "symbol": "ACME",
        "side": "buy",
        "order_type": "limit",
        "limit_price": "100.05",
        "time_in_force": "day",
        "qty": 10,
    } | kwargs
    return entry.place_order(account, account.holders.get(), **values)[0]


def status_of(order, *statuses, timeout=WAIT):
    def check():
        order.refresh_from_db()
        return order.status in statuses

    until(check, f"order {order.cl_ord_id} to be {statuses}", timeout)
    return order


def sound(account, holds=0):
    """Nothing lost, nothing doubled: the ledger balances, holds are what open orders
    need, positions are the sum of live fills, and nothing is parked."""
    assert ledger.verify_balances() == []
    assert ledger.balances(account).holds == holds
    for position in Position.objects.filter(account=account):
        fills = Execution.objects.filter(
            order__account=account, order__security=position.security, busted_at__isnull=True
        )
        bought = sum(e.qty for e in fills if e.order.side == "buy")
        sold = sum(e.qty for e in fills if e.order.side == "sell")
        assert position.qty == bought - sold
    assert not InboundMessage.objects.filter(state=InboundMessage.State.PARKED).exists()


def test_execids_starting_again_after_an_engine_restart_lose_no_fill(
    peer_factory, gateways, account
):
    peer = peer_factory({"mode": "fill"})
    gateways(peer)
    first = [status_of(place(account), OrderStatus.FILLED) for _ in range(2)]
    peer.restart()  # a new process: ExecIDs start again at 1, the session goes on
    second = [status_of(place(account), OrderStatus.FILLED) for _ in range(2)]
    exec_ids = [o.executions.get().exec_id for o in first + second]
    assert exec_ids == ["1", "2", "1", "2"]  # the same ExecIDs, four different fills
    assert Position.objects.get(account=account).qty == 40
    assert Execution.objects.filter(order__account=account).count() == 4
    sound(account)


def test_reports_resent_with_possdup_are_applied_once(peer_factory, gateways, account):
    peer = peer_factory({"mode": "fill"})
    gw = gateways(peer)
    orders = [status_of(place(account), OrderStatus.FILLED) for _ in range(3)]
    cash = ledger.balances(account).cash
    # Make our side ask for everything again: QuickFIX sends a ResendRequest and the
    # peer resends its fills with PossDupFlag=Y.
    qf.Session.lookupSession(gw.app.session_id).setNextTargetMsgSeqNum(1)
    peer.control("send", msg_type="1", fields={"112": "again"})  # a TestRequest
    until(
        lambda: (
            InboundMessage.objects.filter(
                msg_type="8", poss_dup=True, state=InboundMessage.State.DUPLICATE
            ).count()
            >= 3
        ),
        "the resent fills to be recognised",
    )
    assert ledger.balances(account).cash == cash
    assert Execution.objects.filter(order__in=orders).count() == 3
    sound(account)


@pytest.mark.parametrize("style", ["custom", "quickfix"])
def test_a_session_reject_ends_the_order_and_says_why(
    peer_factory, gateways, account, client, caplog, style
):
    peer = peer_factory({"reject_ord_types": "1", "reject_style": style})
    gateways(peer)
    caplog.set_level(logging.WARNING)
    order = status_of(place(account, order_type="market", limit_price=None), OrderStatus.REJECTED)
    assert order.reject_reason.startswith("Rejected by the routing engine: ")
    assert len(order.reject_reason) > len("Rejected by the routing engine: ")
    assert any(
        order.cl_ord_id in r.getMessage() for r in caplog.records if r.levelname == "WARNING"
    )
    client.force_login(account.holders.get())
    page = client.get(reverse("account-orders", args=[account.account_number]))
    assert order.reject_reason in page.content.decode()
    sound(account)


def _no_rejects_from_us(peer):
    """Everything the gateway sent before answering this TestRequest has arrived."""
    marker = f"check-{time.monotonic()}"
    peer.control("send", msg_type="1", fields={"112": marker})
    peer.control("wait_received", msg_type="0", test_req_id=marker, timeout=WAIT)
    return peer.control("received", msg_type=["3", "j"])["messages"]


def test_a_business_reject_of_a_cancel_restores_the_order_and_is_not_answered(
    peer_factory, gateways, account
):
    peer = peer_factory({"mode": "rest", "unsupported": "F"})
    gateways(peer)
    order = status_of(place(account), OrderStatus.NEW)
    held = ledger.balances(account).holds
    entry.cancel_order(order, None)
    until(
        lambda: InboundMessage.objects.filter(
            msg_type="j", state=InboundMessage.State.APPLIED
        ).exists(),
        "the business reject to be applied",
    )
    status_of(order, OrderStatus.NEW)
    assert _no_rejects_from_us(peer) == []
    assert InboundMessage.objects.filter(msg_type="j").count() == 1  # no ping-pong
    sound(account, holds=held)


def test_a_message_we_do_not_handle_is_kept_parked_and_answered_once(
    peer_factory, gateways, account
):
    peer = peer_factory({"mode": "fill"})
    gateways(peer)
    peer.control("send", msg_type="B", fields={"148": "Markets open late"})  # News
    until(
        lambda: InboundMessage.objects.filter(
            msg_type="B", state=InboundMessage.State.PARKED
        ).exists(),
        "the News message to be parked",
    )
    answers = peer.control("wait_received", msg_type="j", count=1, timeout=WAIT)["messages"]
    assert len(answers) == 1
    marker = f"check-{time.monotonic()}"
    peer.control("send", msg_type="1", fields={"112": marker})
    peer.control("wait_received", msg_type="0", test_req_id=marker, timeout=WAIT)
    assert len(peer.control("received", msg_type="j")["messages"]) == 1
    InboundMessage.objects.filter(msg_type="B").delete()  # seen; the rest must be sound
    status_of(place(account), OrderStatus.FILLED)  # and orders still flow
    sound(account)


def test_a_message_we_first_get_resent_is_answered_once(peer_factory, gateways, account):
    peer = peer_factory({"mode": "fill"})
    # Sent before any logon: stored by the peer, it reaches us only through the resend
    # that our ResendRequest after the logon asks for, with PossDupFlag=Y.
    assert not peer.control("send", msg_type="B", fields={"148": "Early news"})["delivered"]
    gateways(peer)
    until(
        lambda: InboundMessage.objects.filter(
            msg_type="B", poss_dup=True, state=InboundMessage.State.PARKED
        ).exists(),
        "the resent News message to be parked",
    )
    answers = peer.control("wait_received", msg_type="j", count=1, timeout=WAIT)["messages"]
    assert answers[0]["ref_msg_type"] == "B"
    # A second resend of the same message (our side asks for everything again) is not
    # answered a second time.
    gw = gateways.started[-1]
    qf.Session.lookupSession(gw.app.session_id).setNextTargetMsgSeqNum(1)
    peer.control("send", msg_type="1", fields={"112": "again"})  # gap-filled, unanswered
    until(
        lambda: InboundMessage.objects.filter(msg_type="B").count() == 2,
        "the second copy to be stored",
    )
    check = f"check-{time.monotonic()}"
    peer.control("send", msg_type="1", fields={"112": check})
    peer.control("wait_received", msg_type="0", test_req_id=check, timeout=WAIT)
    assert len(peer.control("received", msg_type="j")["messages"]) == 1
    InboundMessage.objects.filter(msg_type="B").delete()  # seen; the rest must be sound
    status_of(place(account), OrderStatus.FILLED)
    sound(account)


def test_an_unanswered_order_is_asked_about_reported_and_ended(
    peer_factory, gateways, account, settings, caplog, client
):
    settings.FIX_STATUS_REQUEST_AFTER = 1
    settings.FIX_UNANSWERED_AFTER = 2
    caplog.set_level(logging.WARNING)
    peer = peer_factory({"mode": "fill", "ignore": "D,H"})
    gateways(peer)
    order = place(account)
    peer.control("wait_received", msg_type="H", cl_ord_id=order.cl_ord_id, timeout=WAIT)
    until(
        lambda: any(
            "unanswered" in r.getMessage() and order.cl_ord_id in r.getMessage()
            for r in caplog.records
        ),
        "the unanswered order to be reported",
    )
    health = client.get("/healthz").json()
    assert health["status"] == "degraded"
    assert health["checks"]["routing"]["unanswered"] == 1
    client.force_login(StaffFactory(is_superuser=True))
    page = client.get(reverse("admin:trading_routingsession_changelist")).content.decode()
    assert order.cl_ord_id in page
    # The engine answers the next status request: it does not know the order.
    peer.control("set", ignore="D")
    status_of(order, OrderStatus.REJECTED)
    assert "Unknown order" in order.reject_reason
    sound(account)


def test_after_a_logon_every_open_order_is_asked_about(peer_factory, gateways, account):
    peer = peer_factory({"mode": "rest"})
    gw = gateways(peer)
    order = status_of(place(account), OrderStatus.NEW)
    gw.stop()
    gw.start()
    asked = peer.control("wait_received", msg_type="H", cl_ord_id=order.cl_ord_id, timeout=WAIT)
    assert asked["messages"]
    status_of(order, OrderStatus.NEW)
    sound(account, holds=order.held_amount)


def test_unsolicited_done_for_day_and_cancel_end_orders_and_release_holds(
    peer_factory, gateways, account
):
    peer = peer_factory({"mode": "rest"})
    gateways(peer)
    day, other = (status_of(place(account), OrderStatus.NEW) for _ in range(2))
    peer.control("cancel", cl_ord_id=day.cl_ord_id, reason="done_for_day")
    peer.control("cancel", cl_ord_id=other.cl_ord_id, reason="canceled", text="Halted")
    status_of(day, OrderStatus.EXPIRED)
    status_of(other, OrderStatus.CANCELED)
    sound(account)


def test_a_busted_trade_is_undone_and_a_corrected_one_repriced(peer_factory, gateways, account):
    peer = peer_factory({"mode": "fill"})
    gateways(peer)
    deposit = ledger.balances(account).cash
    busted = status_of(place(account), OrderStatus.FILLED)
    peer.control("bust", cl_ord_id=busted.cl_ord_id, text="Clearly erroneous")
    until(lambda: Execution.objects.filter(order=busted, busted_at__isnull=False).exists())
    busted = status_of(busted, OrderStatus.NEW)  # the engine reopened it
    assert busted.filled_qty == 0 and "Clearly erroneous" in busted.notice
    assert ledger.balances(account).cash == deposit
    sound(account, holds=busted.held_amount)

    corrected = status_of(place(account), OrderStatus.FILLED)
    fill = corrected.executions.get()
    peer.control("correct", exec_id=fill.exec_id, price="99.50")
    until(lambda: corrected.executions.filter(busted_at__isnull=True, price=D("99.50")).exists())
    corrected.refresh_from_db()
    assert corrected.status == OrderStatus.FILLED and corrected.filled_avg_price == D("99.50")
    assert Position.objects.get(account=account).qty == 10
    assert Position.objects.get(account=account).avg_cost == D("99.50")
    sound(account, holds=busted.held_amount)


def test_partial_fills_out_of_order_fill_the_order_once(peer_factory, gateways, account):
    peer = peer_factory({"mode": "partial", "partials": 3, "partial_order": "reverse"})
    gateways(peer)
    order = place(account, qty=30)
    until(lambda: Execution.objects.filter(order=order).count() == 3, "three fills")
    status_of(order, OrderStatus.FILLED)
    assert order.filled_qty == 30
    assert Position.objects.get(account=account).qty == 30
    sound(account)


def test_a_fill_without_transact_time_is_dated_when_received(peer_factory, gateways, account):
    peer = peer_factory({"mode": "fill", "transact_time": False})
    gateways(peer)
    order = status_of(place(account), OrderStatus.FILLED)
    received = InboundMessage.objects.get(order=order, msg_type="8").received_at
    assert order.executions.get().executed_at == received
    sound(account)


def test_a_fill_past_the_order_quantity_is_parked_and_blocks_nothing(
    peer_factory, gateways, account, caplog
):
    caplog.set_level(logging.WARNING)
    peer = peer_factory({"mode": "rest"})
    gateways(peer)
    order = status_of(place(account), OrderStatus.NEW)
    peer.control(
        "send",
        msg_type="8",
        fields={
            "37": "X1",
            "11": order.cl_ord_id,
            "17": "bogus-1",
            "20": "0",
            "150": "2",
            "39": "2",
            "55": "ACME",
            "54": "1",
            "38": "10",
            "32": "25",
            "31": "100.05",
            "151": "0",
            "14": "25",
            "6": "100.05",
        },
    )
    until(
        lambda: InboundMessage.objects.filter(state=InboundMessage.State.PARKED).exists(),
        "the impossible fill to be parked",
    )
    parked = InboundMessage.objects.get(state=InboundMessage.State.PARKED)
    assert "past its quantity" in parked.reason
    assert any(order.cl_ord_id in r.getMessage() for r in caplog.records)
    peer.control("fill", cl_ord_id=order.cl_ord_id)  # the real fill still goes through
    status_of(order, OrderStatus.FILLED)
    assert order.filled_qty == 10
    parked.delete()
    sound(account)


def test_two_gateways_each_send_their_share_of_the_accounts_once(peer_factory, gateways, acme):
    accounts = [AccountFactory() for _ in range(4)]
    for account in accounts:
        fund(account, D("20000.00"))
    peers = {
        0: peer_factory({"mode": "fill"}, target="RUSHTRADE"),
        1: peer_factory({"mode": "fill"}, target="RUSHTRADE2"),
    }
    gateways(peers[0], sender="RUSHTRADE", partition="0/2")
    gateways(peers[1], sender="RUSHTRADE2", partition="1/2")
    orders = [place(account) for account in accounts for _ in range(3)]
    for order in orders:
        status_of(order, OrderStatus.FILLED)
    for k, peer in peers.items():
        got = [m["cl_ord_id"] for m in peer.control("received", msg_type="D")["messages"]]
        mine = [o.cl_ord_id for o in orders if o.account_id % 2 == k]
        assert sorted(got) == sorted(mine)  # each order once, on its account's session
    for account in accounts:
        sound(account)
