"""Customer documents as PDF: a trade confirmation for each execution (what SEC Rule
10b-10 requires a confirmation to disclose) and a monthly statement per account.

The figures come from the ledger and the executions with database aggregates; the PDF
is laid out with fpdf2's core fonts (Latin-1 text only)."""

import calendar
import logging
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from fpdf import FPDF

from accounts.money import ledger
from accounts.opening.models import Account, AccountHolder
from accounts.profile.models import CustomerProfile
from trading.market import market_data
from trading.market.calendar import settlement_date
from trading.market.models import DailyClose, Security
from trading.orders.models import Execution, OrderSide, PositionAdjustment

ZERO = Decimal("0")
CENT = Decimal("0.01")
logger = logging.getLogger(__name__)


def _money(value: Decimal) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


# Characters the pages use that the PDF core fonts (Latin-1) lack, and what prints
# instead: the bank mask "••••6789" printed as "????6789" before.
_PDF_SUBSTITUTES = str.maketrans(
    {
        "\u2022": "*",  # bullet (masks)
        "\u2212": "-",  # minus sign
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2192": "->",
        "\u0141": "L",  # letters without a decomposition into a Latin-1 one
        "\u0142": "l",
        "\u0110": "D",
        "\u0111": "d",
        "\u0131": "i",
        "\u0152": "OE",
        "\u0153": "oe",
    }
)


def _latin1(text: str) -> str:
    """`text` as the core fonts can print it: known substitutes, then accents dropped
    from letters outside Latin-1 (Č -> C); anything left prints as "?" and is logged."""
    text = text.translate(_PDF_SUBSTITUTES)
    if all(ord(c) < 256 for c in text):
        return text
    text = "".join(
        c
        if ord(c) < 256
        else "".join(d for d in unicodedata.normalize("NFKD", c) if not unicodedata.combining(d))
        for c in text
    )
    missing = sorted({c for c in text if ord(c) > 255})
    if missing:
        logger.warning(
            "PDF text has characters the core font lacks, printed as '?': %s",
            " ".join(f"U+{ord(c):04X}" for c in missing),
        )
    return text.encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="Letter")
        self.title_text = title
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(title)
        self.set_author(settings.FIRM_NAME)
        self.add_page()

    def header(self) -> None:
        self.set_font("Helvetica", "B", 14)
        self.cell(0, 7, _latin1(settings.FIRM_NAME), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 8)
        self.cell(0, 4, _latin1(settings.FIRM_ADDRESS), new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, "Member FINRA/SIPC", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, _latin1(self.title_text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", "", 7)
        self.cell(0, 4, f"Page {self.page_no()}", align="R")

    def pairs(self, rows: list[tuple[str, str]], width: float = 60) -> None:
        for label, value in rows:
            self.set_font("Helvetica", "", 9)
            self.cell(width, 5, _latin1(label))
            self.set_font("Helvetica", "B", 9)
            self.cell(0, 5, _latin1(value), new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str, size: int = 7) -> None:
        self.set_font("Helvetica", "", size)
        self.multi_cell(0, 3.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def table(self, headings: list[str], rows: list[list[str]], widths: list[float]) -> None:
        self.set_font("Helvetica", "B", 8)
        for heading, width in zip(headings, widths, strict=True):
            self.cell(width, 5, heading, border="B", align="L" if width > 40 else "R")
        self.ln()
        self.set_font("Helvetica", "", 8)
        for row in rows:
            for value, width in zip(row, widths, strict=True):
                self.cell(width, 5, _latin1(value), align="L" if width > 40 else "R")
            self.ln()

    def bytes(self) -> bytes:
        return bytes(self.output())


def _holder_lines(account: Account) -> list[str]:
    holding = (
        AccountHolder.objects.filter(account=account, role=AccountHolder.Role.PRIMARY)
        .select_related("user")
        .first()
    )
    profile = (
        CustomerProfile.objects.filter(user=holding.user).first() if holding is not None else None
    )
    if profile is not None and profile.family_name:
        mailing = not profile.mailing_same_as_residential and profile.mailing_street_address
        prefix = "mailing_" if mailing else ""
        country = getattr(profile, f"{prefix}country")
        place = ", ".join(
            p
            for p in (
                getattr(profile, f"{prefix}city"),
                " ".join(
                    filter(
                        None, (getattr(profile, f"{prefix}{n}") for n in ("state", "postal_code"))
                    )
                ),
                country.name if country else "",
            )
            if p
        )
        return [profile.full_name, getattr(profile, f"{prefix}street_address"), place]
    application = account.application
    if application is not None and application.family_name:
        name = " ".join(
            p
            for p in (application.given_name, application.middle_name, application.family_name)
            if p
        )
        street = application.street_address
        place = ", ".join(
            p
            for p in (
                application.city,
                f"{application.state} {application.postal_code}".strip(),
                application.country.name if application.country else "",
            )
            if p
        )
        return [name, street, place]
    user = holding.user if holding else None
    return [user.get_full_name() or user.email] if user else []


# --- Trade confirmations -----------------------------------------------------------


def confirmation_pdf(execution: Execution) -> bytes:
    """The confirmation of one execution (one fill of an order)."""
    order = execution.order
    account, security = order.account, order.security
    executed = timezone.localtime(execution.executed_at)
    principal = (execution.price * execution.qty).quantize(CENT)
    bought = order.side == OrderSide.BUY
    net = (
        principal + execution.commission
        if bought
        else (principal - execution.commission - execution.fees)
    )
    pdf = _Document("Trade confirmation")
    pdf.paragraph("\n".join(_holder_lines(account)), size=9)
    pdf.ln(2)
    pdf.pairs(
        [
            ("Account", account.account_number),
            ("Confirmation number", f"{execution.pk:08d}"),
            ("You " + ("bought" if bought else "sold"), f"{execution.qty:,} shares"),
            ("Security", f"{security.symbol}  {security.name}"),
            ("ISIN", security.isin or "n/a"),
            ("Trade date and time", executed.strftime("%m/%d/%Y %I:%M:%S %p %Z")),
            ("Settlement date", settlement_date(executed.date()).strftime("%m/%d/%Y")),
            ("Price", f"${execution.price:,.4f}".rstrip("0").rstrip(".")),
            ("Principal amount", _money(principal)),
            ("Commission", _money(execution.commission)),
            ("SEC fee and FINRA TAF", _money(execution.fees)),
            ("Net amount " + ("you paid" if bought else "you received"), _money(net)),
            (
                "Order",
                f"{order.get_order_type_display()}, {order.time_in_force.upper()}, "
                f"{order.qty:,} shares, reference {order.cl_ord_id}",
            ),
            ("Capacity", "Agent"),
            ("Solicitation", "Unsolicited (self-directed account)"),
            ("Execution report", execution.exec_id),
        ]
    )
    pdf.ln(3)
    pdf.paragraph(
        f"{settings.FIRM_NAME} acted as your agent in this transaction. The fees shown are the "
        "SEC transaction fee and the FINRA Trading Activity Fee, charged on sales. "
        f"{settings.FIRM_NAME} {settings.PAYMENT_FOR_ORDER_FLOW_DISCLOSURE} The time of "
        "execution shown is the time the routing engine reported the fill. Your account is "
        "carried by our clearing firm on a fully disclosed basis. Please review this "
        "confirmation and tell us at once of any error."
    )
    return pdf.bytes()


# --- Monthly statements ------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    day: date
    kind: str
    description: str
    amount: Decimal


@dataclass(frozen=True)
class StatementHolding:
    symbol: str
    name: str
    qty: int
    price: Decimal | None
    value: Decimal


@dataclass(frozen=True)
class StatementPositionChange:
    day: date
    symbol: str
    description: str
    qty_change: int


@dataclass(frozen=True)
class Statement:
    account: Account
    start: date
    end: date
    opening_cash: Decimal
    closing_cash: Decimal
    lines: list[StatementLine]
    holdings: list[StatementHolding]
    position_changes: list[StatementPositionChange] = ()

    @property
    def market_value(self) -> Decimal:
        return sum((h.value for h in self.holdings), ZERO)

    @property
    def closing_equity(self) -> Decimal:
        return self.closing_cash + self.market_value


def statement_months(account: Account, today: date | None = None) -> list[tuple[int, int]]:
    """(year, month) of each statement, newest first: from the month the account opened
    to the current month (month to date)."""
    today = today or timezone.localdate()
    opened = timezone.localtime(account.opened_at).date()
    months, year, month = [], today.year, today.month
    while (year, month) >= (opened.year, opened.month):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def statement(account: Account, year: int, month: int) -> Statement:
    """The account's month: cash at the start and end, every cash posting in it, and the
    shares held at the end valued at that day's close (or the latest price for the
    current month)."""
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    zone = timezone.get_current_timezone()
    ends = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    # Cash by the day each entry counts from on the books (a trade's trade date), as the
    # month's snapshots and statistics count it, not by the moment it was written.
    cash = ledger.cash_postings(account)
    cash_totals = cash.aggregate(
        opening=Coalesce(Sum("amount", filter=Q(entry__effective_on__lt=start)), Value(ZERO)),
        closing=Coalesce(Sum("amount", filter=Q(entry__effective_on__lte=end)), Value(ZERO)),
    )
    lines = [
        StatementLine(
            p.entry.effective_on,
            p.entry.get_kind_display(),
            p.entry.description,
            p.amount,
        )
        for p in cash.filter(entry__effective_on__gte=start, entry__effective_on__lte=end)
        .select_related("entry")
        .order_by("entry__effective_on", "entry__created_at", "id")
    ]
    signed = Case(
        When(order__side=OrderSide.BUY, then=F("qty")),
        default=-F("qty"),
        output_field=IntegerField(),
    )
    traded = (
        Execution.objects.filter(order__account=account, executed_at__lt=ends)
        .exclude(busted_at__lt=ends)  # a fill busted by then holds nothing at the end
        .values("order__security")
        .annotate(qty=Sum(signed))
        .values_list("order__security", "qty")
    )
    # Splits and other position changes that are no fills (PositionAdjustment).
    adjusted = (
        PositionAdjustment.objects.filter(account=account, effective_on__lte=end)
        .values("security")
        .annotate(qty=Sum("qty_change"))
        .values_list("security", "qty")
    )
    totals: dict[int, int] = {}
    for pk, qty in [*traded, *adjusted]:
        totals[pk] = totals.get(pk, 0) + qty
    held = [(pk, qty) for pk, qty in totals.items() if qty]
    position_changes = [
        StatementPositionChange(a.effective_on, a.security.symbol, a.description, a.qty_change)
        for a in PositionAdjustment.objects.filter(
            account=account, effective_on__gte=start, effective_on__lte=end
        )
        .select_related("security")
        .order_by("effective_on", "id")
    ]
    closes = dict(
        Security.objects.filter(pk__in=[pk for pk, _ in held])
        .annotate(
            close=Subquery(
                DailyClose.objects.filter(security=OuterRef("pk"), date__lte=end)
                .order_by("-date")
                .values("close")[:1]
            )
        )
        .values_list("pk", "close")
    )
    securities = {s.pk: s for s in Security.objects.filter(pk__in=[pk for pk, _ in held])}
    current = end >= timezone.localdate()
    quotes = (
        market_data.get_quotes([s.symbol for s in securities.values()]) if current and held else {}
    )
    holdings = []
    for pk, qty in sorted(held, key=lambda row: securities[row[0]].symbol):
        security = securities[pk]
        quote = quotes.get(security.symbol)
        price = quote.last if quote else closes.get(pk)
        value = (price * qty).quantize(CENT) if price is not None else ZERO
        holdings.append(StatementHolding(security.symbol, security.name, qty, price, value))
    return Statement(
        account,
        start,
        end,
        cash_totals["opening"],
        cash_totals["closing"],
        lines,
        holdings,
        position_changes,
    )


def statement_pdf(account: Account, year: int, month: int) -> bytes:
    s = statement(account, year, month)
    current = s.end >= timezone.localdate()
    title = f"Account statement {s.start:%B %Y}" + (" (month to date)" if current else "")
    pdf = _Document(title)
    pdf.paragraph("\n".join(_holder_lines(account)), size=9)
    pdf.ln(2)
    pdf.pairs(
        [
            ("Account", f"{account.account_number} ({account.get_account_type_display()})"),
            ("Period", f"{s.start:%m/%d/%Y} to {s.end:%m/%d/%Y}"),
            ("Cash at the start", _money(s.opening_cash)),
            ("Cash at the end", _money(s.closing_cash)),
            ("Market value of securities", _money(s.market_value)),
            ("Account value at the end", _money(s.closing_equity)),
        ]
    )
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Securities held", new_x="LMARGIN", new_y="NEXT")
    pdf.table(
        ["Symbol", "Description", "Quantity", "Price", "Market value"],
        [
            [
                h.symbol,
                h.name[:40],
                f"{h.qty:,}",
                f"${h.price:,.2f}" if h.price is not None else "n/a",
                _money(h.value),
            ]
            for h in s.holdings
        ]
        or [["", "None", "", "", ""]],
        [20, 80, 25, 30, 35],
    )
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Cash activity", new_x="LMARGIN", new_y="NEXT")
    pdf.table(
        ["Date", "Description", "Type", "Amount"],
        [
            [f"{line.day:%m/%d}", f"{line.description[:60]}", line.kind, _money(line.amount)]
            for line in s.lines
        ]
        or [["", "No activity", "", ""]],
        [20, 105, 30, 35],
    )
    if s.position_changes:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(
            0, 6, "Position changes (corporate actions, adjustments)", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.table(
            ["Date", "Symbol", "Description", "Shares"],
            [
                [f"{c.day:%m/%d}", c.symbol, c.description[:60], f"{c.qty_change:+,}"]
                for c in s.position_changes
            ],
            [20, 25, 110, 35],
        )
    pdf.ln(3)
    pdf.paragraph(
        "Prices are closing prices on the statement date (for the current month, the latest "
        "price). Cash is held at our clearing firm; securities are held in your name by it. "
        "Trades settle one business day after the trade date. Tell us at once of any error "
        "in this statement."
    )
    return pdf.bytes()
