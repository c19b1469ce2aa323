import signal
import threading

from django.core.management.base import BaseCommand

from trading.routing import gateway


class Command(BaseCommand):
    help = (
        "Hold the FIX 4.2 session to the routing engine: send the order outbox, apply "
        "execution reports. Stops cleanly on SIGINT/SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-applier",
            action="store_true",
            help="Only hold the session: another process applies the inbox (--applier-only).",
        )
        parser.add_argument(
            "--applier-only",
            action="store_true",
            help="Only apply this session's inbox (beside a `run_gateway --no-applier`): "
            "the two use a core each.",
        )

    def handle(self, *args, no_applier=False, applier_only=False, **options):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        config = gateway.gateway_config()
        if applier_only:
            session = gateway.session_name(config)
            self.stdout.write(f"Inbox applier of {session}")
            gateway.apply_inbox(stop, session=session, idle_seconds=1.0)
            return
        self.stdout.write(
            f"Routing gateway: {config['SenderCompID']} -> "
            f"{config['TargetCompID']} at {config['SocketConnectHost']}:"
            f"{config['SocketConnectPort']}"
        )
        gateway.run(stop, applier=not no_applier)
