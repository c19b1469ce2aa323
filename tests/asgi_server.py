"""The ASGI server (uvicorn, as `make run` starts it) inside the test process, on the
test database: pages, APIs, /api/v1/events and the /stream WebSocket."""

import socket
import threading
import time

import pytest
import uvicorn
from django.db import connection, connections


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _application_with_static_files():
    """rushtrade.asgi's application, with static files served as the live_server fixture
    serves them (tests run with DEBUG off and nothing collected)."""
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from rushtrade import asgi

    static = ASGIStaticFilesHandler(asgi.application)

    async def application(scope, receive, send):
        if scope["type"] == "http":
            return await static(scope, receive, send)
        return await asgi.application(scope, receive, send)

    return application


class AsgiServer:
    def __init__(self):
        self.port = free_port()
        config = uvicorn.Config(
            _application_with_static_files(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            ws="websockets-sansio",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="asgi-server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive(), "the ASGI server did not start"
            assert time.monotonic() < deadline, "the ASGI server did not start in 30 s"
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"

    def stop(self):
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def asgi_server(transactional_db, settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    # The server's threads must not keep database connections past the test (PostgreSQL
    # could not drop the test database).
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    server = AsgiServer()
    yield server
    server.stop()


def wait_for(condition, timeout: float = 15.0, interval: float = 0.01):
    """Wait for `condition()` to be true (generous bounds: never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)
