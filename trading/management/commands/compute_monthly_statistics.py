from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from trading.reporting.models import MonthlyStatistics
from trading.reporting.statistics import (
    StatisticsError,
    compute_month,
    compute_months,
    last_closed_month,
    parse_month,
)


class Command(BaseCommand):
    help = (
        "Compute the firm's monthly statistics and store them (replacing earlier runs): "
        "the month that last closed by default, --month YYYY-MM, or --from/--to a range."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="One month, YYYY-MM.")
        parser.add_argument("--from", dest="first", help="First month of a range, YYYY-MM.")
        parser.add_argument("--to", dest="last", help="Last month of a range, YYYY-MM.")

    def handle(self, *args, month=None, first=None, last=None, **options):
        if month and (first or last):
            raise CommandError("Give --month, or --from and --to, not both.")
        if bool(first) != bool(last):
            raise CommandError("A range needs both --from and --to.")
        try:
            if first:
                bar = {"disable": options["verbosity"] == 0, "unit": "month", "file": self.stderr}
                rows = compute_months(
                    parse_month(first),
                    parse_month(last),
                    source=MonthlyStatistics.Source.COMMAND,
                    progress=lambda months: tqdm(months, desc="Monthly statistics", **bar),
                )
            else:
                target = parse_month(month) if month else last_closed_month()
                rows = [compute_month(target, source=MonthlyStatistics.Source.COMMAND)]
        except StatisticsError as exc:
            raise CommandError(exc.message) from exc
        for row in rows:
            self.stdout.write(
                f"{row.month:%Y-%m}: {row.accounts_open:,} accounts, assets "
                f"${row.customer_assets:,}, {row.trades:,} trades, "
                f"{row.shares_traded:,} shares"
            )
