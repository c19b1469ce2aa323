from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from trading.simulation import clearing_firm


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "The clearing-firm simulator: read the portal's outbound files up to the date and "
        "write the next morning's positions, cash, activity and corporate actions "
        "(docs/clearing.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The business date answered (default: today)")
        parser.add_argument(
            "--inject",
            action="append",
            default=[],
            choices=clearing_firm.INJECTIONS,
            help="Disagree on purpose (repeatable)",
        )
        parser.add_argument(
            "--dividend",
            action="append",
            default=[],
            metavar="SYMBOL:RATE:EX_DATE:PAY_DATE",
            help="Announce a cash dividend",
        )
        parser.add_argument(
            "--split",
            action="append",
            default=[],
            metavar="SYMBOL:NEW:OLD:EX_DATE[:CASH_IN_LIEU_PRICE]",
            help="Announce a stock split (2:1 is 2-for-1, 1:10 a reverse split); fractions "
            "are paid in cash at the price given",
        )
        parser.add_argument(
            "--again", action="store_true", help="Answer a date already answered again"
        )

    def handle(self, *args, **options):
        day = _day(options["date"]) if options["date"] else timezone.localdate()
        for text in options["dividend"]:
            try:
                symbol, rate, ex, pay = text.split(":")
                action = clearing_firm.announce_dividend(
                    symbol.upper(), Decimal(rate), _day(ex), _day(pay)
                )
            except (ValueError, InvalidOperation):
                raise CommandError(f"--dividend {text!r}: SYMBOL:RATE:EX_DATE:PAY_DATE") from None
            self.stdout.write(f"Announced {action['action_id']}")
        for text in options["split"]:
            try:
                symbol, new, old, ex, *price = text.split(":")
                if len(price) > 1:
                    raise ValueError(text)
                action = clearing_firm.announce_split(
                    symbol.upper(),
                    int(new),
                    int(old),
                    _day(ex),
                    Decimal(price[0]) if price else None,
                )
            except (ValueError, InvalidOperation):
                raise CommandError(
                    f"--split {text!r}: SYMBOL:NEW:OLD:EX_DATE[:CASH_IN_LIEU_PRICE]"
                ) from None
            self.stdout.write(f"Announced {action['action_id']}")
        try:
            result = clearing_firm.answer(day, inject=options["inject"], again=options["again"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        for path in result.files:
            self.stdout.write(f"Wrote {path}")
        for injection in result.injected:
            self.stdout.write(f"Injected {injection}")
