"""Orders, their executions, positions, and the outbox and report log of the order path."""

import uuid
from decimal import Decimal

from django.db import models

from accounts.money.models import JournalEntry
from accounts.opening.models import Account
from accounts.users.models import User
from trading.market.models import PRICE, Security


class OrderSide(models.TextChoices):
    BUY = "buy", "Buy"
    SELL = "sell", "Sell"


class OrderType(models.TextChoices):
    MARKET = "market", "Market"
    LIMIT = "limit", "Limit"
    STOP = "stop", "Stop"
    STOP_LIMIT = "stop_limit", "Stop limit"
    TRAILING_STOP = "trailing_stop", "Trailing stop"


# What the routing engine sees: a trailing stop is held by the portal and routed as a
# market order once triggered (trading/orders/classes.py).
PLAIN_ORDER_TYPES = (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT)
PLAIN_ORDER_TYPE_CHOICES = [(t.value, t.label) for t in PLAIN_ORDER_TYPES]


class OrderClass(models.TextChoices):
    """Alpaca's order classes: the portal holds the legs and routes plain orders."""

    SIMPLE = "simple", "Simple"
    BRACKET = "bracket", "Bracket"
    OCO = "oco", "One cancels other"
    OTO = "oto", "One triggers other"


class OrderLeg(models.TextChoices):
    """An order's part in its class group (blank for a simple order)."""

    ENTRY = "entry", "Entry"
    TAKE_PROFIT = "take_profit", "Take profit"
    STOP_LOSS = "stop_loss", "Stop loss"


class TimeInForce(models.TextChoices):
    DAY = "day", "Day"
    GTC = "gtc", "Good till canceled"
    IOC = "ioc", "Immediate or cancel"
    FOK = "fok", "Fill or kill"


class OrderStatus(models.TextChoices):
    HELD = "held", "Held"  # a leg the portal holds until its entry fills
    PENDING_NEW = "pending_new", "Pending new"
    NEW = "new", "New"
    PARTIALLY_FILLED = "partially_filled", "Partially filled"
    FILLED = "filled", "Filled"
    PENDING_CANCEL = "pending_cancel", "Pending cancel"
    CANCELED = "canceled", "Canceled"
    PENDING_REPLACE = "pending_replace", "Pending replace"
    REPLACED = "replaced", "Replaced"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


OPEN_STATUSES = (
    OrderStatus.HELD,
    OrderStatus.PENDING_NEW,
    OrderStatus.NEW,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.PENDING_CANCEL,
    OrderStatus.PENDING_REPLACE,
)


class Order(models.Model):
    """A customer order. `client_order_id` (the customer's) makes submission idempotent
    per account; `cl_ord_id` is the FIX ClOrdID that identifies it to the routing engine."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="orders")
    uuid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="The order id of the trading API"
    )
    security = models.ForeignKey(Security, on_delete=models.PROTECT, related_name="orders")
    client_order_id = models.CharField(max_length=128)
    request_hash = models.CharField(
        max_length=64,
        help_text="Of the order's content, to tell a retry from a different order with the same id",
    )
    cl_ord_id = models.CharField(max_length=40, unique=True)
    side = models.CharField(max_length=4, choices=OrderSide.choices)
    order_type = models.CharField(max_length=13, choices=OrderType.choices)
    time_in_force = models.CharField(max_length=3, choices=TimeInForce.choices)
    qty = models.PositiveIntegerField()
    limit_price = models.DecimalField(**PRICE, null=True, blank=True)
    stop_price = models.DecimalField(**PRICE, null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING_NEW
    )
    filled_qty = models.PositiveIntegerField(default=0)
    filled_avg_price = models.DecimalField(**PRICE, null=True, blank=True)
    held_amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    estimated_commission = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0")
    )
    reject_reason = models.CharField(max_length=300, blank=True)
    notice = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the routing engine changed after the fact (a trade busted or "
        "corrected), shown to the customer",
    )
    engine_order_id = models.CharField(
        max_length=64, blank=True, help_text="The routing engine's OrderID (37)"
    )
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    # Database defaults too: rows written by SQL alone (bench/, data loads) are simple.
    order_class = models.CharField(
        max_length=7,
        choices=OrderClass.choices,
        default=OrderClass.SIMPLE,
        db_default=OrderClass.SIMPLE,
    )
    group = models.UUIDField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Shared by the orders of one bracket, oco or oto (replacements included)",
    )
    leg = models.CharField(
        max_length=11, choices=OrderLeg.choices, blank=True, default="", db_default=""
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="legs",
        help_text="The order this one is a leg of (Alpaca's nested listing)",
    )
    trail_price = models.DecimalField(**PRICE, null=True, blank=True)
    trail_percent = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    hwm = models.DecimalField(
        **PRICE,
        null=True,
        blank=True,
        help_text="A trailing stop's high-water mark (the lowest price, for a buy)",
    )
    triggered_at = models.DateTimeField(
        null=True, blank=True, help_text="When a trailing stop was routed as a market order"
    )
    placed_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    filled_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_order_id"], name="order_client_id_once_per_account"
            ),
            models.CheckConstraint(condition=models.Q(qty__gt=0), name="order_qty_positive"),
            models.CheckConstraint(
                condition=models.Q(filled_qty__lte=models.F("qty")), name="order_not_overfilled"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status"], name="order_account_status"),
            models.Index(
                fields=["id"],
                name="order_trailing_untriggered",
                condition=models.Q(
                    order_type="trailing_stop", triggered_at__isnull=True, status="new"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.qty} {self.security.symbol} ({self.status})"

    @property
    def held_by_portal(self) -> bool:
        """Not routed yet: a held leg, or a trailing stop not yet triggered."""
        return self.status == OrderStatus.HELD or (
            self.order_type == OrderType.TRAILING_STOP and self.triggered_at is None
        )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Execution(models.Model):
    """A fill reported by the routing engine, applied once: keyed by the report's identity
    (session, order, ExecTransType and ExecID; an ExecID alone repeats across engine
    restarts). A busted fill stays, marked, with its reversing ledger entry."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="executions")
    exec_id = models.CharField(max_length=64, help_text="The engine's ExecID (17)")
    report_key = models.CharField(max_length=200, unique=True)
    qty = models.PositiveIntegerField()
    price = models.DecimalField(**PRICE)
    commission = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    fees = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    executed_at = models.DateTimeField()
    journal_entry = models.OneToOneField(
        JournalEntry, null=True, on_delete=models.PROTECT, related_name="execution"
    )
    busted_at = models.DateTimeField(
        null=True, blank=True, help_text="Canceled or corrected by the engine (ExecTransType 1/2)"
    )

    class Meta:
        ordering = ["-executed_at", "-id"]
        indexes = [
            models.Index(fields=["executed_at"], name="execution_time"),
            models.Index(
                fields=["busted_at"],
                name="execution_busted",
                condition=models.Q(busted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.qty} @ {self.price} ({self.exec_id})"


class Position(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="positions")
    security = models.ForeignKey(Security, on_delete=models.PROTECT, related_name="positions")
    qty = models.IntegerField(default=0)
    avg_cost = models.DecimalField(**PRICE, default=Decimal("0"))
    realized_pnl = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "security"], name="one_position_per_symbol"),
        ]

    def __str__(self) -> str:
        return f"{self.qty} {self.security.symbol}"


class PositionAdjustment(models.Model):
    """A change to a position that is no fill: a stock split, or staff accepting the
    clearing firm's quantity. The position changes in the same transaction; statements
    and activities read these rows."""

    class Kind(models.TextChoices):
        SPLIT = "split", "Stock split"
        CLEARING = "clearing", "Adjusted to the clearing firm's quantity"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    security = models.ForeignKey(Security, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    qty_change = models.IntegerField()
    qty_after = models.IntegerField()
    avg_cost_before = models.DecimalField(**PRICE)
    avg_cost_after = models.DecimalField(**PRICE)
    effective_on = models.DateField(help_text="The day it counts from (a split's ex-date)")
    # A split's terms (new-for-old), and the fraction of a share it left, paid in cash
    # (tax lots replay them: trading/orders/lots.py).
    ratio_new = models.PositiveIntegerField(null=True, blank=True)
    ratio_old = models.PositiveIntegerField(null=True, blank=True)
    fraction = models.DecimalField(
        max_digits=12, decimal_places=6, default=Decimal("0"), help_text="Of a share, dropped"
    )
    cash_in_lieu = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Paid for the fraction (none: the clearing firm reported no price)",
    )
    description = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    reference = models.CharField(
        max_length=64,
        unique=True,
        help_text="What it applies, once (e.g. split:<action>:<account>)",
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "effective_on"], name="adjustment_account_day"),
            models.Index(fields=["effective_on"], name="adjustment_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.qty_change:+d} {self.security.symbol}"


class OutboxMessage(models.Model):
    """A message for the routing engine, written in the same transaction as the change it
    carries; the gateway sends it and marks it sent."""

    class Kind(models.TextChoices):
        NEW_ORDER = "new_order", "NewOrderSingle (35=D)"
        CANCEL = "cancel", "OrderCancelRequest (35=F)"
        REPLACE = "replace", "OrderCancelReplaceRequest (35=G)"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    cl_ord_id = models.CharField(max_length=40, unique=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    send_attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text="Counted before each send: above 1, the message may have gone "
        "out before a crash, so it is resent with PossResend=Y",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    session = models.CharField(
        max_length=80, blank=True, help_text="The FIX session it went out on (Sender->Target)"
    )
    sent_seq_num = models.PositiveIntegerField(
        null=True, blank=True, help_text="Its MsgSeqNum (34): a session Reject names it"
    )
    claimed_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A gateway is sending it: no other takes it before this time",
    )
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the engine first answered it"
    )
    status_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="Last OrderStatusRequest (35=H) about it"
    )
    unanswered_reported_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was reported as unanswered (log, admin)"
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], name="outbox_unsent", condition=models.Q(sent_at__isnull=True)
            ),
            models.Index(
                fields=["sent_at"],
                name="outbox_unanswered",
                condition=models.Q(sent_at__isnull=False, answered_at__isnull=True),
            ),
            models.Index(fields=["session", "sent_seq_num"], name="outbox_session_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.cl_ord_id}"


class ExecutionReportLog(models.Model):
    """Every answer of the engine applied: ExecutionReport (35=8), OrderCancelReject
    (35=9), session Reject (35=3) and BusinessMessageReject (35=j) of an order message,
    keyed by its identity (for a report: session, order, ExecTransType, ExecID).
    Inserting it first is what makes applying an answer happen exactly once, whatever
    the engine resends."""

    report_key = models.CharField(max_length=200, unique=True)
    cl_ord_id = models.CharField(max_length=40, db_index=True)
    exec_type = models.CharField(max_length=20)
    order = models.ForeignKey(Order, null=True, on_delete=models.PROTECT, related_name="reports")
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.exec_type} {self.cl_ord_id} ({self.report_key})"


class AccountConfiguration(models.Model):
    """The trading settings an account's owner sets (Alpaca's account configurations,
    `/v2/account/configurations`). An account without a row has the defaults."""

    class Check(models.TextChoices):
        BOTH = "both", "Entry and exit"
        ENTRY = "entry", "Entry"
        EXIT = "exit", "Exit"

    class ConfirmEmail(models.TextChoices):
        ALL = "all", "All"
        NONE = "none", "None"

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="trading_configuration"
    )
    suspend_trade = models.BooleanField(
        default=False, help_text="Set by the owner: new orders are refused while on"
    )
    trade_confirm_email = models.CharField(
        max_length=4, choices=ConfirmEmail.choices, default=ConfirmEmail.ALL
    )
    dtbp_check = models.CharField(max_length=5, choices=Check.choices, default=Check.ENTRY)
    pdt_check = models.CharField(max_length=5, choices=Check.choices, default=Check.ENTRY)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Configuration of {self.account}"
