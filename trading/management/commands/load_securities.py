from django.core.management.base import BaseCommand

from trading.market.securities import DEFAULT_INDICES, load_securities


class Command(BaseCommand):
    help = (
        "Load the US equities (NYSE, NASDAQ) of the S&P 500, NASDAQ 100 and Dow Jones "
        "into the security master. Idempotent: a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--index",
            action="append",
            dest="indices",
            help=f"An index to load (repeatable; default: {', '.join(DEFAULT_INDICES)}).",
        )

    def handle(self, *args, indices=None, **options):
        created, updated = load_securities(tuple(indices or DEFAULT_INDICES))
        self.stdout.write(f"Securities: {created} created, {updated} updated.")
