from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from trading.clearing import cycle


class Command(BaseCommand):
    help = (
        "Run a step of the daily cycle with the clearing firm by hand (docs/clearing.md): "
        "'evening' writes the day's outbound files, 'morning' loads the inbox, applies the "
        "corporate actions due and reconciles. Each step is safe to repeat."
    )

    def add_arguments(self, parser):
        parser.add_argument("step", choices=["evening", "morning"])
        parser.add_argument(
            "--date", help="evening: the business date (default today); morning: today"
        )

    def handle(self, *args, step, **options):
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"{options['date']!r} is not a date (YYYY-MM-DD)") from None
        if step == "evening":
            result = cycle.evening(day)
            for row in result.files:
                self.stdout.write(f"{row.name}: {row.record_count} records")
            delivery = cycle.deliver()
            for name in delivery.delivered if delivery else []:
                self.stdout.write(f"Delivered {name} by SFTP")
            for name in delivery.failed if delivery else []:
                self.stderr.write(f"Not delivered {name} (see admin → Clearing files)")
            return
        result = cycle.morning(day)
        for name in result.delivered:
            self.stdout.write(f"Delivered {name} by SFTP")
        for name in result.undelivered:
            self.stderr.write(f"Not delivered {name} (see admin → Clearing files)")
        for name in result.fetched:
            self.stdout.write(f"Fetched {name} by SFTP")
        for name in result.loaded:
            self.stdout.write(f"Loaded {name}")
        for name in result.rejected:
            self.stderr.write(f"Rejected {name} (see admin → Clearing files)")
        for action in result.actions_applied:
            self.stdout.write(f"Applied {action}")
        for day_done in result.reconciled:
            self.stdout.write(f"Reconciled {day_done}")
