"""Securities, their daily closes and customers' watchlists."""

import uuid
from decimal import Decimal

from django.db import models

from accounts.users.models import User

PRICE = {"max_digits": 14, "decimal_places": 4}


class Security(models.Model):
    """A US equity in the security master. Staff halt a symbol (no orders, the engine
    rejects) or restrict it (tradable off: customers cannot open orders in it)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive (delisted)"

    symbol = models.CharField(max_length=12, unique=True)
    uuid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="The asset id of the trading API"
    )
    name = models.CharField(max_length=200)
    exchange = models.CharField(max_length=16)
    isin = models.CharField(max_length=12, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    tradable = models.BooleanField(default=True)
    marginable = models.BooleanField(default=True)
    shortable = models.BooleanField(default=False)
    halted = models.BooleanField(default=False)
    price_increment = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal("0.01"))
    reference_price = models.DecimalField(
        **PRICE, help_text="Where the simulated market's random walk starts"
    )

    class Meta:
        ordering = ["symbol"]
        verbose_name_plural = "securities"

    def __str__(self) -> str:
        return f"{self.symbol} ({self.name})"


class DailyClose(models.Model):
    """The closing price of a security on a trading day: values accounts for snapshots
    and statistics."""

    security = models.ForeignKey(Security, on_delete=models.CASCADE, related_name="closes")
    date = models.DateField()
    close = models.DecimalField(**PRICE)
    volume = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["security", "date"], name="one_close_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.security.symbol} {self.date}: {self.close}"


class WatchlistItem(models.Model):
    """A symbol a customer follows (their watchlist, across their accounts)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="watchlist")
    security = models.ForeignKey(Security, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "security"], name="watch_symbol_once"),
        ]
        ordering = ["security__symbol"]

    def __str__(self) -> str:
        return f"{self.user} watches {self.security.symbol}"
