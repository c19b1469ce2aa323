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
    is_etf = models.BooleanField(
        "ETF", default=False, help_text="An exchange-traded fund (the symbol directory's flag)"
    )
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


class Watchlist(models.Model):
    """A named, ordered list of symbols a customer follows. The watchlist page shows the
    customer's first one; the trading API (/v2/watchlists) reaches them all."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="watchlists")
    uuid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="The id of the trading API"
    )
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="watchlist_name_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class WatchlistItem(models.Model):
    """A symbol on one of a customer's watchlists, in the order it was added (id order)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="watchlist")
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="items")
    security = models.ForeignKey(Security, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["watchlist", "security"], name="watch_symbol_once"),
        ]
        ordering = ["security__symbol"]

    def __str__(self) -> str:
        return f"{self.user} watches {self.security.symbol}"
