from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trading.simulation.demo import ensure_demo_users


class Command(BaseCommand):
    help = "Create the demo staff user and demo customer (embedded run only) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=None,
            help="Password for both demo logins (default: $DEMO_PASSWORD).",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Skip the two years of demo accounts, trades and monthly statistics.",
        )

    def handle(self, *args, password=None, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for the embedded run (DEBUG=1) only.")
        password = password or settings.DEMO_PASSWORD
        logins = ensure_demo_users(password)
        if not options.get("no_history"):
            from trading.simulation.history import seed_history

            if seed_history():
                self.stdout.write("Demo history: two years of accounts, trades and statistics.")
        self.stdout.write(self.style.SUCCESS("Demo logins (http://127.0.0.1:8000):"))
        for login in logins:
            self.stdout.write(f"  {login.role:<9} {login.email:<22} password: {login.password}")
        self.stdout.write("  admin:    http://127.0.0.1:8000/admin/ (staff login)")
