"""The ASGI application (`uvicorn rushtrade.asgi:application`): Django for every HTTP
request (pages, APIs, and the server-sent events of /api/v1/events), and Alpaca's trade
updates WebSocket at /stream."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rushtrade.settings")

django_application = get_asgi_application()

from accounts.events.feed import feed  # noqa: E402  (after Django is set up)
from trading.alpaca.stream import trade_updates_app  # noqa: E402


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # What is loaded by now (Django, the apps, about 190,000 objects) lives as
            # long as the process: out of the collector's way, a full collection no
            # longer holds up every stream for a scan of it (measured: 150 ms on a busy
            # 2-core machine, 550 ms once; bench/streams.py).
            gc.collect()
            gc.freeze()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await feed().stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    if scope["type"] == "http":
        return await django_application(scope, receive, send)
    if scope["type"] == "websocket":
        if scope["path"].rstrip("/") == "/stream":
            return await trade_updates_app(scope, receive, send)
        await receive()
        return await send({"type": "websocket.close", "code": 1008})  # 403 before accept
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    raise ValueError(f"unknown ASGI scope type {scope['type']!r}")
