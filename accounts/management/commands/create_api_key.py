from django.core.management.base import BaseCommand, CommandError

from accounts.api_keys import keys
from accounts.opening.models import Account
from rushtrade.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Create a trading API key for an account and print its key id and secret "
        "(the secret is not stored: this is the only time it is shown)."
    )

    def add_arguments(self, parser):
        parser.add_argument("account_number")
        parser.add_argument("--name", default="created by operations", help="A label for the key")

    def handle(self, *args, account_number, name, **options):
        account = Account.objects.filter(account_number=account_number.strip().upper()).first()
        if account is None:
            raise CommandError(f"No account {account_number}.")
        try:
            key, secret = keys.create_api_key(account, None, name)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"APCA-API-KEY-ID:     {key.key_id}")
        self.stdout.write(f"APCA-API-SECRET-KEY: {secret}")
        self.stdout.write("Keep the secret now: it cannot be shown again.")
