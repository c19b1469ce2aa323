"""The clearing firm's files, what they carried, the breaks found between the two books,
and corporate actions (docs/clearing.md)."""

from decimal import Decimal

from django.db import models

from accounts.money.models import JournalEntry
from accounts.opening.models import Account
from accounts.users.models import User
from trading.market.models import Security
from trading.orders.models import PositionAdjustment

__all__ = [
    "Break",
    "ClearingActivity",
    "ClearingCash",
    "ClearingFile",
    "ClearingPosition",
    "CorporateAction",
    "ReconciliationRun",
    "SentAccount",
    "SentRecord",
]

AMOUNT = {"max_digits": 20, "decimal_places": 4}


class FileType(models.TextChoices):
    TRADES = "TRADES", "Trades (outbound)"
    ACCOUNTS = "ACCOUNTS", "New and changed accounts (outbound)"
    MONEY = "MONEY", "Money movements (outbound)"
    POSITIONS = "POSITIONS", "Positions (inbound)"
    CASH = "CASH", "Settled cash (inbound)"
    ACTIVITY = "ACTIVITY", "Activity (inbound)"
    CORPACT = "CORPACT", "Corporate actions (inbound)"


OUTBOUND_TYPES = (FileType.TRADES, FileType.ACCOUNTS, FileType.MONEY)
INBOUND_TYPES = (FileType.POSITIONS, FileType.CASH, FileType.ACTIVITY, FileType.CORPACT)


class Delivery(models.TextChoices):
    PENDING = "pending", "Not delivered yet"
    DELIVERED = "delivered", "Delivered by SFTP"


class ClearingFile(models.Model):
    """A file sent to or received from the clearing firm: written or loaded once, or
    rejected whole (with the line and the reason)."""

    class Direction(models.TextChoices):
        OUTBOUND = "out", "To the clearing firm"
        INBOUND = "in", "From the clearing firm"

    class Status(models.TextChoices):
        WRITTEN = "written", "Written"
        LOADED = "loaded", "Loaded"
        REJECTED = "rejected", "Rejected"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    file_type = models.CharField(max_length=10, choices=FileType.choices)
    business_date = models.DateField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices)
    record_count = models.PositiveIntegerField(default=0)
    control_totals = models.JSONField(default=list, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True, help_text="Where it was rejected")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # SFTP delivery of an outbound file (docs/clearing.md, "SFTP"): `pending` from the
    # moment it is written while CLEARING_SFTP_URL is set, `delivered` once it is on the
    # clearing firm's server under its final name; blank when files stay in the folder.
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0)
    delivery_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "file_type", "sequence"],
                condition=~models.Q(status="rejected"),
                name="clearing_file_sequence_once",
            ),
            models.UniqueConstraint(fields=["direction", "sha256"], name="clearing_file_once"),
            models.UniqueConstraint(
                fields=["file_type", "business_date"],
                condition=models.Q(direction="out"),
                name="clearing_outbound_once_a_day",
            ),
        ]
        indexes = [
            models.Index(
                fields=["delivery"],
                condition=models.Q(delivery="pending"),
                name="clearing_file_undelivered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"


class SentRecord(models.Model):
    """An execution, a bust or a cash entry reported to the clearing firm: reported once."""

    class Kind(models.TextChoices):
        TRADE = "TRD", "Trade"
        CANCEL = "TRX", "Trade cancel (bust)"
        MONEY = "MNY", "Money movement"

    kind = models.CharField(max_length=3, choices=Kind.choices)
    ref = models.BigIntegerField(help_text="The execution or journal entry id")
    file = models.ForeignKey(ClearingFile, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "ref"], name="sent_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ref}"


class SentAccount(models.Model):
    """The account record last sent, as a hash: a change sends the account again."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="+")
    record_hash = models.CharField(max_length=64)
    file = models.ForeignKey(ClearingFile, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"Account {self.account_id} as sent in file {self.file_id}"


class ClearingPosition(models.Model):
    """A position as the clearing firm carries it (POSITIONS file)."""

    file = models.ForeignKey(ClearingFile, on_delete=models.CASCADE, related_name="+")
    account_number = models.CharField(max_length=20)
    symbol = models.CharField(max_length=12)
    cusip = models.CharField(max_length=9, blank=True)
    qty = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["file", "account_number", "symbol"], name="clr_pos")]

    def __str__(self) -> str:
        return f"{self.account_number} {self.qty} {self.symbol}"


class ClearingCash(models.Model):
    """An account's settled cash as the clearing firm carries it (CASH file)."""

    file = models.ForeignKey(ClearingFile, on_delete=models.CASCADE, related_name="+")
    account_number = models.CharField(max_length=20)
    settled_cash = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["file", "account_number"], name="clr_cash")]

    def __str__(self) -> str:
        return f"{self.account_number} settled cash {self.settled_cash}"


class ClearingActivity(models.Model):
    """What the clearing firm booked on a business date (ACTIVITY file)."""

    file = models.ForeignKey(ClearingFile, on_delete=models.CASCADE, related_name="+")
    activity_type = models.CharField(max_length=8)
    reference = models.CharField(max_length=40)
    account_number = models.CharField(max_length=20)
    symbol = models.CharField(max_length=12, blank=True)
    qty = models.BigIntegerField(default=0)
    net_amount = models.DecimalField(max_digits=18, decimal_places=2)
    trade_date = models.DateField()
    settlement_date = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["file", "reference"], name="clr_activity")]

    def __str__(self) -> str:
        return f"{self.activity_type} {self.reference} {self.account_number}"


class CorporateAction(models.Model):
    """A cash dividend or a stock split, as the clearing firm announced it."""

    class Kind(models.TextChoices):
        DIVIDEND = "DIV", "Cash dividend"
        SPLIT = "SPLIT", "Stock split"

    action_id = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=5, choices=Kind.choices)
    symbol = models.CharField(max_length=12)
    security = models.ForeignKey(
        Security, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cusip = models.CharField(max_length=9, blank=True)
    ex_date = models.DateField()
    record_date = models.DateField()
    pay_date = models.DateField()
    rate = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, help_text="Cash per share"
    )
    ratio_new = models.PositiveIntegerField(null=True, blank=True)
    ratio_old = models.PositiveIntegerField(null=True, blank=True)
    cash_in_lieu_price = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="A split's price for the fractions of a share it leaves (paid in cash)",
    )
    file = models.ForeignKey(ClearingFile, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)
    accounts_applied = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ex_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="DIV", rate__gt=0)
                    | models.Q(kind="SPLIT", ratio_new__gt=0, ratio_old__gt=0)
                ),
                name="corporate_action_terms",
            )
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.DIVIDEND:
            return f"{self.symbol} dividend ${self.rate} a share, paid {self.pay_date}"
        return f"{self.symbol} {self.ratio_new}-for-{self.ratio_old} split, ex {self.ex_date}"

    @property
    def due_on(self):
        return self.pay_date if self.kind == self.Kind.DIVIDEND else self.ex_date


class BreakKind(models.TextChoices):
    POSITION = "position", "Position quantity differs"
    CASH = "cash", "Settled cash differs"
    TRADE_MISSING_AT_CLEARING = "trade_missing_at_clearing", "Trade not booked by clearing"
    TRADE_UNKNOWN_TO_US = "trade_unknown_to_us", "Trade at clearing unknown to us"
    TRADE_MISMATCH = "trade_mismatch", "Trade booked differently"
    ACCOUNT_UNKNOWN_TO_CLEARING = "account_unknown_to_clearing", "Account clearing does not know"
    ACCOUNT_UNKNOWN_TO_US = "account_unknown_to_us", "Account at clearing unknown to us"


class Break(models.Model):
    """A difference between the portal's books and the clearing firm's, kept from the
    day it is first found until it clears, is accepted or is explained."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        EXPLAINED = "explained", "Explained"
        ACCEPTED = "accepted", "Accepted (adjusted to clearing)"
        RESOLVED = "resolved", "Resolved (no longer found)"

    key = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=BreakKind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    account_number = models.CharField(max_length=20, blank=True)
    symbol = models.CharField(max_length=12, blank=True)
    reference = models.CharField(max_length=40, blank=True)
    ours = models.DecimalField(**AMOUNT, null=True, blank=True)
    theirs = models.DecimalField(**AMOUNT, null=True, blank=True)
    difference = models.DecimalField(**AMOUNT, default=Decimal("0"))
    first_seen_on = models.DateField()
    last_seen_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    journal_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position_adjustment = models.ForeignKey(
        PositionAdjustment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["first_seen_on", "id"]
        verbose_name = "reconciliation break"
        verbose_name_plural = "reconciliation"
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status__in=["open", "explained"]),
                name="break_once_while_open",
            )
        ]
        indexes = [models.Index(fields=["status", "first_seen_on"], name="break_queue")]

    def __str__(self) -> str:
        what = " ".join(x for x in (self.account_number, self.symbol, self.reference) if x)
        return f"{self.get_kind_display()}: {what}"


class ReconciliationRun(models.Model):
    """The daily summary of one reconciliation of a business date."""

    business_date = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    positions_compared = models.PositiveIntegerField(default=0)
    accounts_compared = models.PositiveIntegerField(default=0)
    trades_compared = models.PositiveIntegerField(default=0)
    breaks_by_kind = models.JSONField(default=dict)
    new_breaks = models.PositiveIntegerField(default=0)
    resolved_breaks = models.PositiveIntegerField(default=0)
    open_breaks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-business_date", "-id"]

    def __str__(self) -> str:
        return f"Reconciliation of {self.business_date}: {self.open_breaks} open breaks"
