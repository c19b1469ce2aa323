"""Daily account snapshots and monthly firm statistics."""

from decimal import Decimal

from django.db import models

from accounts.opening.models import Account
from accounts.users.models import User


class AccountSnapshot(models.Model):
    """An account's value at one trading day's close, valued at that day's closing prices.
    Taken after the close by a Celery task; portfolio history and the monthly firm
    statistics read these rather than recomputing the past from the ledger."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="snapshots")
    date = models.DateField()
    cash = models.DecimalField(max_digits=18, decimal_places=2)
    market_value = models.DecimalField(max_digits=18, decimal_places=2)
    equity = models.DecimalField(max_digits=18, decimal_places=2)
    # Deposits minus withdrawals up to and including the day: P&L = equity - net_transfers.
    net_transfers = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    positions = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date"], name="one_snapshot_per_account_day"
            ),
        ]
        indexes = [models.Index(fields=["date"], name="snapshot_date")]

    def __str__(self) -> str:
        return f"{self.account.account_number} {self.date}: {self.equity}"


class MonthlyStatistics(models.Model):
    """The firm's figures for one calendar month in the firm's time zone (America/Chicago),
    computed in the database by `trading.reporting.statistics.compute_month` after the month ends.
    Recomputing replaces the row; the comparisons with earlier months are read from their
    rows (see `statistics.monthly_reports`)."""

    class Source(models.TextChoices):
        SCHEDULE = "schedule", "Schedule (Celery beat)"
        COMMAND = "command", "Management command"
        STAFF = "staff", "Staff (web)"
        DEMO = "demo", "Demo data"

    month = models.DateField(unique=True, help_text="The first day of the month")
    accounts_open = models.PositiveIntegerField(help_text="Customer accounts open at month end")
    accounts_opened = models.PositiveIntegerField()
    accounts_closed = models.PositiveIntegerField()
    customer_assets = models.DecimalField(
        max_digits=20,
        decimal_places=2,
        help_text="Cash plus market value of all accounts at the month's last close",
    )
    assets_as_of = models.DateField(
        null=True, blank=True, help_text="The trading day whose snapshots gave the assets"
    )
    trades = models.PositiveBigIntegerField(
        help_text="Customer orders with at least one execution in the month"
    )
    shares_traded = models.PositiveBigIntegerField()
    dollar_volume = models.DecimalField(max_digits=22, decimal_places=2)
    computed_at = models.DateTimeField()
    computed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices)

    class Meta:
        ordering = ["-month"]
        verbose_name_plural = "monthly statistics"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="statistics_month_first_day"
            ),
        ]

    def __str__(self) -> str:
        return self.month.strftime("%B %Y")

    @property
    def computed_by_name(self) -> str:
        if self.computed_by_id:
            return str(self.computed_by)
        return self.get_source_display()
