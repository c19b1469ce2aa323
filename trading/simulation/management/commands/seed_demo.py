from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.money.models import Transfer
from trading.simulation.demo import CUSTOMER_EMAIL, ensure_demo_users


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
            help="Skip the two years of history (demo accounts, trades, monthly "
            "statistics, and the demo customer's own): the demo customer gets one deposit.",
        )

    def handle(self, *args, password=None, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for the embedded run (DEBUG=1) only.")
        password = password or settings.DEMO_PASSWORD
        logins = ensure_demo_users(password, history=not options.get("no_history"))
        if not options.get("no_history"):
            from trading.simulation.history import seed_history

            if seed_history():
                self.stdout.write("Demo history: two years of accounts, trades and statistics.")
            if not Transfer.objects.filter(
                account__holders__email=CUSTOMER_EMAIL,
                client_transfer_id__startswith="demo-history",
            ).exists():
                self.stdout.write(
                    self.style.WARNING(
                        f"{CUSTOMER_EMAIL}'s account was made before the demo customer had a "
                        "history and is left as it is; delete the database (var/) for a fresh one."
                    )
                )
        self.stdout.write(self.style.SUCCESS(f"Demo logins ({settings.SITE_URL}/):"))
        for login in logins:
            self.stdout.write(f"  {login.role:<9} {login.email:<22} password: {login.password}")
        self.stdout.write(f"  admin:    {settings.SITE_URL}/admin/ (staff login)")
