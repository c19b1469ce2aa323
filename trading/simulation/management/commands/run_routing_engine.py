import signal
import threading

from django.core.management.base import BaseCommand

from trading.simulation import engine


class Command(BaseCommand):
    help = (
        "The routing engine simulator: a FIX 4.2 acceptor filling orders against the "
        "simulated market (development, demos and tests)."
    )

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        config = engine.engine_config()
        self.stdout.write(
            f"Routing engine simulator: {config['SenderCompID']} listening on "
            f"port {config['SocketAcceptPort']}"
        )
        engine.run(stop)
