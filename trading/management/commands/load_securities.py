from django.core.management.base import BaseCommand

from trading.market.securities import DEFAULT_INDICES, load_securities


class Command(BaseCommand):
    help = (
        "Load the US listings of Nasdaq Trader's symbol directory (common stocks, ADRs and "
        "ETFs on NASDAQ, NYSE, NYSE American, NYSE Arca and Cboe BZX; trading/market/data/) "
        "into the security master, with the ISINs of the S&P 500, NASDAQ 100 and Dow Jones "
        "members. Idempotent: a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--index",
            action="append",
            dest="indices",
            help=(
                "Load only the members of this index (repeatable; e.g. "
                f"{', '.join(DEFAULT_INDICES)}) instead of the whole directory."
            ),
        )

    def handle(self, *args, indices=None, **options):
        if indices:
            created, updated = load_securities(tuple(indices), directory=False)
        else:
            created, updated = load_securities()
        self.stdout.write(f"Securities: {created} created, {updated} updated.")
