"""Funding: linked bank accounts and ACH transfers."""

from django.db import models

from ..fields import EncryptedTextField
from .core import Account, User
from .ledger import JournalEntry

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
