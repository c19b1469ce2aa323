from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from trading.reporting.snapshots import take_snapshots, trading_days


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"Not a date: {text!r} (expected YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Take (or retake) the account snapshots of one trading day (--date) or of every "
        "NYSE trading day in a range (--from, --to), valued at each day's closing prices."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="One trading day, YYYY-MM-DD.")
        parser.add_argument("--from", dest="first", help="First day of a range, YYYY-MM-DD.")
        parser.add_argument("--to", dest="last", help="Last day of a range, YYYY-MM-DD.")

    def handle(self, *args, date=None, first=None, last=None, **options):
        if (date and (first or last)) or (not date and not (first and last)):
            raise CommandError("Give --date, or both --from and --to.")
        days = [_day(date)] if date else trading_days(_day(first), _day(last))
        if not days:
            raise CommandError("No NYSE trading day in that range.")
        bar = {"disable": options["verbosity"] == 0 or len(days) == 1, "file": self.stderr}
        total = 0
        for day in tqdm(days, desc="Snapshots", unit="day", **bar):
            total += take_snapshots(day).accounts
        self.stdout.write(f"{len(days)} trading day(s), {total:,} account snapshots.")
