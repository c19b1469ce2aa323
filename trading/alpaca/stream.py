"""`/stream`: Alpaca's trade updates WebSocket (an ASGI app, routed by rushtrade/asgi.py).

The client authenticates with its API key, then listens to `trade_updates`:

    -> {"action": "authenticate", "data": {"key_id": "RK...", "secret_key": "..."}}
       (or Alpaca's newer {"action": "auth", "key": ..., "secret": ...})
    <- {"stream": "authorization", "data": {"action": "authenticate", "status": "authorized"}}
    -> {"action": "listen", "data": {"streams": ["trade_updates"]}}
    <- {"stream": "listening", "data": {"streams": ["trade_updates"]}}
    <- {"stream": "trade_updates", "data": {"event": "fill", "execution_id": "...",
        "order": {...}, "timestamp": "...", "position_qty": "10", "price": "100.5", "qty": "4"}}

Frames are binary, as Alpaca's trading stream sends them: JSON, or MessagePack when the
handshake has `Content-Type: application/msgpack` (or the client writes MessagePack).
Events are the account's order events from the event log (accounts/events), live from
the moment the client listens; a wrong key gets `unauthorized` and the socket closes, as
does a key revoked while connected (checked every `KEY_CHECK_SECONDS`).
"""

import asyncio
import contextlib
import json
import logging

import msgpack

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from accounts.events.feed import Event, Subscription, database_sync_to_async, feed

log = logging.getLogger(__name__)

STREAMS = ("trade_updates",)
AUTH_TIMEOUT_SECONDS = 30
KEY_CHECK_SECONDS = 30
MAX_FRAME = 64 * 1024
CLOSE_POLICY = 1008


def alpaca_order(order: dict) -> dict:
    """An order snapshot of the event log (trading/orders/events.py) as Alpaca's Order."""
    status, done_at = order["status"], order["updated_at"]
    return {
        "id": order["id"],
        "client_order_id": order["client_order_id"],
        "created_at": order["created_at"],
        "updated_at": order["updated_at"],
        "submitted_at": order["submitted_at"] or order["created_at"],
        "filled_at": order["filled_at"],
        "expired_at": done_at if status == "expired" else None,
        "expires_at": None,
        "canceled_at": order["canceled_at"],
        "failed_at": done_at if status == "rejected" else None,
        "replaced_at": done_at if status == "replaced" else None,
        "replaced_by": order["replaced_by"],
        "replaces": order["replaces"],
        "asset_id": order["asset_id"],
        "symbol": order["symbol"],
        "asset_class": "us_equity",
        "notional": None,
        "qty": order["qty"],
        "filled_qty": order["filled_qty"],
        "filled_avg_price": order["filled_avg_price"],
        "order_class": order.get("order_class", "simple"),
        "order_type": order["type"],
        "type": order["type"],
        "side": order["side"],
        "position_intent": "buy_to_open" if order["side"] == "buy" else "sell_to_close",
        "time_in_force": order["time_in_force"],
        "limit_price": order["limit_price"],
        "stop_price": order["stop_price"],
        "status": status,
        "extended_hours": False,
        "legs": None,
        "trail_percent": order.get("trail_percent"),
        "trail_price": order.get("trail_price"),
        "hwm": order.get("hwm"),
        "reject_reason": order["reject_reason"],
    }


def trade_update(event: Event) -> dict:
    payload = event.payload
    data = {
        "event": payload["event"],
        "order": alpaca_order(payload["order"]),
        "timestamp": payload["timestamp"],
    }
    for name in ("execution_id", "position_qty", "price", "qty"):
        if name in payload:
            data[name] = payload[name]
    return {"stream": "trade_updates", "data": data}


def encode(message: dict, codec: str) -> bytes:
    if codec == "msgpack":
        return msgpack.packb(message)
    return json.dumps(message, separators=(",", ":")).encode()


def encoded_update(event: Event, codec: str) -> bytes:
    """An event's trade update, encoded once per codec whoever receives it."""
    key = f"alpaca-{codec}"
    cached = event.encoded.get(key)
    if cached is None:
        cached = event.encoded[key] = encode(trade_update(event), codec)
    return cached


def _decode(message: dict) -> tuple[dict | None, str | None]:
    """A client frame as a dict, and the codec it came in (None if unreadable)."""
    raw_bytes, raw_text = message.get("bytes"), message.get("text")
    size = len(raw_bytes or b"") + len(raw_text or "")
    if size > MAX_FRAME:
        return None, None
    if raw_text is not None:
        try:
            return json.loads(raw_text), "json"
        except ValueError:
            return None, None
    try:
        return json.loads(raw_bytes), "json"
    except (ValueError, UnicodeDecodeError):
        pass
    try:
        return msgpack.unpackb(raw_bytes, raw=False), "msgpack"
    except Exception:  # msgpack raises several types for bad input
        return None, None


def _credentials(message: dict) -> tuple[str, str]:
    data = message.get("data") if isinstance(message.get("data"), dict) else {}
    key_id = data.get("key_id", message.get("key", ""))
    secret = data.get("secret_key", message.get("secret", ""))
    return (key_id if isinstance(key_id, str) else ""), (secret if isinstance(secret, str) else "")


def _authenticate(key_id: str, secret: str) -> ApiKey | None:
    key = keys.authenticate(key_id.strip(), secret.strip())
    return key if key is not None and key.account.status != "closed" else None


def _key_active(key_id: int) -> bool:
    return ApiKey.objects.filter(pk=key_id, revoked_at__isnull=True).exists()


class Connection:
    """One client of /stream."""

    def __init__(self, scope, receive, send):
        self.receive, self.send_asgi = receive, send
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        self.codec = "msgpack" if "msgpack" in content_type else "json"
        self.key: ApiKey | None = None
        self.subscription: Subscription | None = None
        self.forwarder: asyncio.Task | None = None
        self.closed = False

    async def send(self, message: dict) -> None:
        await self.send_asgi({"type": "websocket.send", "bytes": encode(message, self.codec)})

    async def close(self, code: int = 1000) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                await self.send_asgi({"type": "websocket.close", "code": code})

    async def run(self) -> None:
        message = await self.receive()
        if message["type"] != "websocket.connect":
            return
        await self.send_asgi({"type": "websocket.accept"})
        try:
            await self._read()
        finally:
            self._stop_listening()

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + AUTH_TIMEOUT_SECONDS
        next_key_check = loop.time() + KEY_CHECK_SECONDS
        while not self.closed:
            timeout = (deadline if self.key is None else next_key_check) - loop.time()
            try:
                message = await asyncio.wait_for(self.receive(), max(timeout, 0.01))
            except TimeoutError:
                if self.key is None:
                    await self._unauthorized("authenticate")
                    return
                if not await database_sync_to_async(_key_active)(self.key.pk):
                    log.warning("Trade updates stream closed: API key %s revoked", self.key.key_id)
                    await self._unauthorized("authenticate")
                    return
                next_key_check = loop.time() + KEY_CHECK_SECONDS
                continue
            if message["type"] == "websocket.disconnect":
                self.closed = True
                return
            if message["type"] == "websocket.receive":
                await self._handle(message)

    async def _handle(self, message: dict) -> None:
        request, codec = _decode(message)
        if not isinstance(request, dict):
            await self.send({"stream": "listening", "data": {"error": "invalid syntax"}})
            return
        if codec == "msgpack":
            self.codec = "msgpack"
        action = request.get("action")
        if action in ("authenticate", "auth"):
            key_id, secret = _credentials(request)
            key = await database_sync_to_async(_authenticate)(key_id, secret)
            if key is None:
                log.warning("Trade updates stream: authentication refused (key %r)", key_id[:20])
                await self._unauthorized("authenticate")
                return
            self.key = key
            authorized = {"action": "authenticate", "status": "authorized"}
            await self.send({"stream": "authorization", "data": authorized})
        elif action == "listen":
            if self.key is None:
                await self._unauthorized("listen")
                return
            data = request.get("data") if isinstance(request.get("data"), dict) else {}
            wanted = data.get("streams") if isinstance(data.get("streams"), list) else []
            streams = [s for s in STREAMS if s in wanted]
            if streams:
                await self._start_listening()
            else:
                self._stop_listening()
            await self.send({"stream": "listening", "data": {"streams": streams}})
        else:
            await self.send({"stream": "listening", "data": {"error": "invalid action"}})

    async def _unauthorized(self, action: str) -> None:
        await self.send(
            {"stream": "authorization", "data": {"action": action, "status": "unauthorized"}}
        )
        await self.close(CLOSE_POLICY)

    async def _start_listening(self) -> None:
        if self.subscription is None:
            self.subscription = await feed().subscribe([self.key.account_id])
            self.forwarder = asyncio.get_running_loop().create_task(self._forward())

    def _stop_listening(self) -> None:
        if self.forwarder is not None:
            self.forwarder.cancel()
            self.forwarder = None
        if self.subscription is not None:
            self.subscription.close()
            self.subscription = None

    async def _forward(self) -> None:
        subscription = self.subscription
        try:
            while True:
                event = await subscription.get()
                if event is None:  # fell too far behind: the client reconnects
                    await self.close(1011)
                    return
                if event.kind.startswith("order."):
                    await self.send_asgi(
                        {"type": "websocket.send", "bytes": encoded_update(event, self.codec)}
                    )
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away mid-send: the reader ends the connection
            log.info("Trade updates stream: sending failed", exc_info=True)


async def trade_updates_app(scope, receive, send) -> None:
    """The ASGI app of /stream."""
    await Connection(scope, receive, send).run()
