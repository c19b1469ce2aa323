"""Alpaca's trade updates WebSocket (/stream) against the ASGI server: alpaca-py's own
TradingStream, unchanged, receives an order's updates (a fill over the real FIX session
within a second of it being applied), and a bare WebSocket client speaks the documented
protocol in JSON and in MessagePack."""

import json
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import msgpack
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.models import TradeUpdate
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from alpaca.trading.stream import TradingStream
from django.db import connection
from websockets.sync.client import connect

from accounts.api_keys import keys as api_keys
from accounts.events.feed import feed
from accounts.events.models import AccountEvent
from tests.asgi_server import wait_for
from tests.factories import AccountFactory, fund
from trading.orders import entry

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


@pytest.fixture
def account():
    account = AccountFactory()
    fund(account, D("50000.00"))
    return account


@pytest.fixture
def keys(account):
    return api_keys.create_api_key(account, None)


def subscribed(account):
    return bool(feed().subscribers.get(account.pk))


class StreamInThread:
    """alpaca-py's TradingStream running in a thread, collecting what it hands over."""

    def __init__(self, key_id, secret, url):
        self.updates: list[tuple[float, TradeUpdate]] = []
        self.stream = TradingStream(key_id, secret, url_override=url)

        async def on_update(update):
            self.updates.append((time.time(), update))

        self.stream.subscribe_trade_updates(on_update)
        self.thread = threading.Thread(target=self.stream.run, daemon=True)
        self.thread.start()

    def events(self, order_id=None):
        return [
            u.event for _, u in self.updates if order_id is None or str(u.order.id) == str(order_id)
        ]

    def stop(self):
        wait_for(lambda: self.stream._loop is not None, 10)
        self.stream.stop()
        self.thread.join(15)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_trading_stream_gets_the_fill_within_a_second(pair, asgi_server, account, keys, acme):
    pair.start_engine()
    pair.start_gateway()
    key, secret = keys
    stream = StreamInThread(key.key_id, secret, f"{asgi_server.ws_url}/stream")
    try:
        assert wait_for(lambda: subscribed(account), 30), "TradingStream did not listen"
        trading = TradingClient(key.key_id, secret, url_override=asgi_server.url)
        order = trading.submit_order(
            MarketOrderRequest(
                symbol="ACME", qty=7, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            )
        )
        assert wait_for(lambda: "fill" in stream.events(order.id), 30), stream.events()
        assert stream.events(order.id) == ["pending_new", "new", "fill"]
        received_at, update = next((at, u) for at, u in stream.updates if u.event == "fill")
        assert update.order.id == order.id and update.order.status.value == "filled"
        assert update.order.filled_qty == "7" and update.order.symbol == "ACME"
        assert (update.qty, update.price, update.position_qty) == (7.0, 100.01, 7.0)
        assert update.execution_id is not None and update.timestamp
        applied = AccountEvent.objects.get(account=account, kind="order.fill").created_at
        latency = datetime.fromtimestamp(received_at, UTC) - applied
        assert latency.total_seconds() < 1.0, latency
    finally:
        stream.stop()


def _frames(ws, decode, count, timeout=15):
    return [decode(ws.recv(timeout=timeout)) for _ in range(count)]


def test_protocol_in_json_and_msgpack(asgi_server, account, keys, acme):
    key, secret = keys
    url = f"{asgi_server.ws_url}/stream"
    with connect(url) as ws:
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        refused = json.loads(ws.recv(timeout=15))
        assert refused == {
            "stream": "authorization",
            "data": {"action": "listen", "status": "unauthorized"},
        }
    with connect(url) as ws:
        ws.send(
            json.dumps(
                {"action": "authenticate", "data": {"key_id": key.key_id, "secret_key": "no"}}
            )
        )
        assert json.loads(ws.recv(timeout=15))["data"]["status"] == "unauthorized"
    with connect(url, additional_headers={"Content-Type": "application/msgpack"}) as ws:
        ws.send(msgpack.packb({"action": "auth", "key": key.key_id, "secret": secret}))
        hello = ws.recv(timeout=15)
        assert isinstance(hello, bytes)
        assert msgpack.unpackb(hello) == {
            "stream": "authorization",
            "data": {"action": "authenticate", "status": "authorized"},
        }
        ws.send(msgpack.packb({"action": "listen", "data": {"streams": ["trade_updates", "x"]}}))
        assert msgpack.unpackb(ws.recv(timeout=15)) == {
            "stream": "listening",
            "data": {"streams": ["trade_updates"]},
        }
        order, _ = entry.place_order(
            account,
            None,
            symbol="ACME",
            side="buy",
            order_type="limit",
            time_in_force="gtc",
            qty=2,
            limit_price="95.00",
        )
        entry.cancel_order(order, None)
        first, second = _frames(ws, msgpack.unpackb, 2)
        assert first["stream"] == "trade_updates"
        assert (first["data"]["event"], second["data"]["event"]) == (
            "pending_new",
            "pending_cancel",
        )
        parsed = TradeUpdate(**second["data"])  # alpaca-py's own model
        assert parsed.order.id.hex == order.uuid.hex and parsed.order.qty == "2"
        assert parsed.order.limit_price == "95" and parsed.order.status.value == "pending_cancel"
    assert wait_for(lambda: not subscribed(account)), "a closed socket is still subscribed"


def test_json_frames_are_binary_and_other_accounts_are_not_seen(asgi_server, account, keys, acme):
    key, secret = keys
    other = AccountFactory()
    fund(other, D("5000.00"))
    with connect(f"{asgi_server.ws_url}/stream") as ws:
        ws.send(
            json.dumps(
                {"action": "authenticate", "data": {"key_id": key.key_id, "secret_key": secret}}
            )
        )
        assert json.loads(ws.recv(timeout=15))["data"]["status"] == "authorized"
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(ws.recv(timeout=15))["stream"] == "listening"
        for who in (other, account):
            entry.place_order(
                who,
                None,
                symbol="ACME",
                side="buy",
                order_type="limit",
                time_in_force="day",
                qty=1,
                limit_price="90.00",
            )
        frame = ws.recv(timeout=15)
        assert isinstance(frame, bytes)  # binary frames, as Alpaca's trading stream sends
        update = json.loads(frame)["data"]
        mine = AccountEvent.objects.filter(account=account, kind="order.pending_new").get()
        assert update["order"]["id"] == mine.payload["order"]["id"]


def test_a_limit_order_through_the_sdk_streams_pending_new(asgi_server, account, keys, acme):
    """Without a routing engine: the order waits pending_new, and says so at once."""
    key, secret = keys
    stream = StreamInThread(key.key_id, secret, f"{asgi_server.ws_url}/stream")
    try:
        assert wait_for(lambda: subscribed(account), 30)
        trading = TradingClient(key.key_id, secret, url_override=asgi_server.url)
        order = trading.submit_order(
            LimitOrderRequest(
                symbol="ACME",
                qty=3,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=99,
            )
        )
        trading.cancel_order_by_id(order.id)
        assert wait_for(lambda: len(stream.events(order.id)) >= 2, 15), stream.events()
        assert stream.events(order.id) == ["pending_new", "pending_cancel"]
    finally:
        stream.stop()
