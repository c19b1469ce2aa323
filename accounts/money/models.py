"""The cash ledger (double entry), holds, bank links and transfers."""

from decimal import Decimal

from django.db import models
from django.utils import timezone

from accounts.fields import EncryptedTextField
from accounts.opening.models import Account
from accounts.users.models import User

__all__ = [
    "Hold",
    "JournalEntry",
    "JournalEntryKind",
    "LedgerAccount",
    "LedgerAccountKind",
    "Posting",
]


class LedgerAccountKind(models.TextChoices):
    CUSTOMER_CASH = "customer_cash", "Customer cash"
    FIRM_BANK = "firm_bank", "Firm bank (customer funds)"
    CLEARING = "clearing", "Clearing firm"
    COMMISSION_REVENUE = "commission_revenue", "Commission revenue"
    FEE_REVENUE = "fee_revenue", "Fee revenue"
    REGULATORY_FEES = "regulatory_fees", "Regulatory fees payable (SEC fee, FINRA TAF)"
    INTEREST_EXPENSE = "interest_expense", "Interest paid to customers"
    ADJUSTMENTS = "adjustments", "Firm adjustments"
    TAX_WITHHELD = "tax_withheld", "US tax withheld, payable to the IRS"


class LedgerAccount(models.Model):
    """A ledger account: one per customer account for its cash, one per firm account kind.
    `balance` caches the sum of its postings and changes in the same transaction as
    they do (checked by `ledger.verify_balances`)."""

    kind = models.CharField(max_length=24, choices=LedgerAccountKind.choices)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    balance = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "kind"], name="ledger_one_per_account_kind"),
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(account__isnull=True),
                name="ledger_one_firm_account_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(account__isnull=True)
                | models.Q(kind=LedgerAccountKind.CUSTOMER_CASH),
                name="ledger_customer_accounts_hold_cash",
            ),
        ]

    def __str__(self) -> str:
        owner = self.account.account_number if self.account_id else "firm"
        return f"{self.get_kind_display()} ({owner})"


class JournalEntryKind(models.TextChoices):
    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    BUY = "buy", "Purchase"
    SELL = "sell", "Sale"
    FEE = "fee", "Fee"
    INTEREST = "interest", "Interest"
    ADJUSTMENT = "adjustment", "Adjustment"
    REVERSAL = "reversal", "Reversal"
    DIVIDEND = "dividend", "Dividend"
    NRA_WITHHOLDING = "nra_withholding", "Dividend tax withheld (non-resident alien)"
    BACKUP_WITHHOLDING = "backup_withholding", "Dividend tax withheld (backup withholding)"
    CASH_IN_LIEU = "cash_in_lieu", "Cash in lieu of a fractional share"


class JournalEntry(models.Model):
    """A posted journal entry. Immutable: a correction is a reversing entry."""

    kind = models.CharField(max_length=24, choices=JournalEntryKind.choices)
    description = models.CharField(max_length=200)
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
        help_text="The customer account concerned, if any",
    )
    reason = models.TextField(blank=True, help_text="Why (required for manual entries)")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    # The day the entry counts from on the books (a trade's trade date; the day it is
    # posted otherwise, in the firm's time zone): cash "as of" a past day, as account
    # snapshots and statistics need it, is the sum of postings effective by then.
    effective_on = models.DateField(default=timezone.localdate, db_index=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.description}"


class Posting(models.Model):
    """One line of a journal entry: a signed amount on one ledger account (credit to a
    customer's cash is positive). `settles_on` is when the money settles (T+1 for
    trades); cash counts as settled from that day."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    ledger_account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="postings"
    )
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    settles_on = models.DateField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="posting_amount_nonzero"),
        ]
        indexes = [
            models.Index(fields=["ledger_account", "-id"], name="posting_account_recent"),
            models.Index(fields=["ledger_account", "settles_on"], name="posting_settlement"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.ledger_account}"

    @property
    def magnitude(self) -> Decimal:
        return abs(self.amount)


class Hold(models.Model):
    """Cash set aside for an open order or a requested withdrawal: not a posting, but it
    reduces buying power and withdrawable cash until released."""

    class Reason(models.TextChoices):
        ORDER = "order", "Open order"
        WITHDRAWAL = "withdrawal", "Withdrawal in progress"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    reference = models.CharField(max_length=64, help_text="Order or transfer it holds for")
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="hold_amount_positive"),
            models.UniqueConstraint(fields=["reason", "reference"], name="hold_once_per_reference"),
        ]
        indexes = [
            models.Index(
                fields=["account"], name="hold_active", condition=models.Q(released_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} held for {self.get_reason_display().lower()} {self.reference}"


__all__ = ["BankAccountType", "BankLink", "Transfer", "TransferDirection", "TransferStatus"]


class BankAccountType(models.TextChoices):
    CHECKING = "checking", "Checking"
    SAVINGS = "savings", "Savings"


class BankLink(models.Model):
    """A US bank account linked to a brokerage account for ACH transfers."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="bank_links")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT)
    routing_number = models.CharField(max_length=9)
    bank_account_number = EncryptedTextField()
    bank_account_last4 = models.CharField(max_length=4)
    bank_account_fingerprint = models.CharField(max_length=64)
    bank_account_type = models.CharField(max_length=8, choices=BankAccountType.choices)
    nickname = models.CharField(max_length=50, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "routing_number", "bank_account_fingerprint"],
                condition=models.Q(active=True),
                name="bank_link_once_while_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.nickname or self.get_bank_account_type_display()} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return "••••" + self.bank_account_last4


class TransferDirection(models.TextChoices):
    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"
    CANCELED = "canceled", "Canceled"


class Transfer(models.Model):
    """An ACH deposit or withdrawal. The ledger moves only when it completes; a
    withdrawal holds its amount from the request on."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transfers")
    bank_link = models.ForeignKey(BankLink, on_delete=models.PROTECT, related_name="transfers")
    direction = models.CharField(max_length=10, choices=TransferDirection.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(
        max_length=10, choices=TransferStatus.choices, default=TransferStatus.REQUESTED
    )
    # NULL, not "", when absent: the unique constraint applies only to given ids.
    client_transfer_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    journal_entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="transfer"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="transfer_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["account", "client_transfer_id"], name="transfer_client_id_once"
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="transfer_queue")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} of ${self.amount} ({self.get_status_display()})"
