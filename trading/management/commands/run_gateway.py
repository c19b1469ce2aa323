import signal
import threading

from django.core.management.base import BaseCommand

from trading.routing import gateway


class Command(BaseCommand):
    help = (
        "Hold the FIX 4.2 session to the routing engine: send the order outbox, apply "
        "execution reports. Stops cleanly on SIGINT/SIGTERM."
    )

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        config = gateway.gateway_config()
        self.stdout.write(
            f"Routing gateway: {config['SenderCompID']} -> "
            f"{config['TargetCompID']} at {config['SocketConnectHost']}:"
            f"{config['SocketConnectPort']}"
        )
        gateway.run(stop)
