"""A routing engine simulator and a gateway on a loopback FIX session, for the tests
(fixtures `shared_engine` and `pair` in conftest.py)."""

import threading

from tests.conftest import free_port
from trading.routing import gateway
from trading.simulation import engine


class SharedEngine:
    """One routing engine simulator (acceptor) for the whole test run, never stopped:
    stopping a SocketAcceptor inside a process that also ran initiators crashed QuickFIX
    now and then (a segmentation fault in SocketAcceptor.stop). In production each side
    is its own process. conftest.pytest_unconfigure ends the test process without
    QuickFIX's destructors once the summary is printed."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.stop_event = threading.Event()
        self.app = engine.RoutingEngine()
        config = engine.engine_config(
            port=self.port,
            store_path=str(tmp_path / "engine-store"),
            log_path=str(tmp_path / "engine-log"),
            heartbeat_interval=5,
        )
        config["ResetOnLogon"] = "Y"  # each test's gateway starts a fresh session
        self.engine = engine.start_engine(self.app, config)
        self.thread = threading.Thread(
            target=engine.serve,
            args=(self.stop_event, self.app),
            kwargs={"tick_seconds": 0.2},
            daemon=True,
        )
        self.thread.start()

    def close_database(self):
        """Stop its loop and its database thread (not its QuickFIX acceptor), so that the
        test database can be dropped at the end of the run."""
        self.stop_event.set()
        self.thread.join(15)
        self.app.db.close()


class Pair:
    """A gateway (started and stopped per test) and the shared engine."""

    def __init__(self, tmp_path, shared_engine):
        self.tmp = tmp_path
        self.shared = shared_engine
        self.gateway = None
        self.engine_port = None

    def start_engine(self):
        self.engine_port = self.shared.port

    def start_gateway(self, wait=True, port=None):
        self.gateway_stop = threading.Event()
        self.gateway_app = gateway.Gateway()
        config = gateway.gateway_config(
            port=port or self.engine_port or free_port(),
            host="127.0.0.1",
            store_path=str(self.tmp / "gw-store"),
            log_path=str(self.tmp / "gw-log"),
            heartbeat_interval=5,
            reconnect_interval=1,
        )
        config["ResetOnLogon"] = "Y"
        self.gateway = gateway.start_engine(self.gateway_app, config)
        self.gateway_thread = threading.Thread(
            target=gateway.serve, args=(self.gateway_stop, self.gateway_app), daemon=True
        )
        self.gateway_thread.start()
        self.applier_thread = threading.Thread(
            target=gateway.apply_inbox, args=(self.gateway_stop, self.gateway_app), daemon=True
        )
        self.applier_thread.start()
        if wait:
            assert self.gateway_app.logged_on.wait(15), "gateway did not log on"

    def stop_gateway(self):
        self.gateway_stop.set()
        self.gateway_thread.join(15)
        self.applier_thread.join(15)
        self.gateway.close()
        self.gateway_app.db.close()
        self.gateway = None

    def stop(self):
        if self.gateway:
            self.stop_gateway()
