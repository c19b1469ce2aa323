"""The gateway's own records: every message received from the routing engine (the inbox)
and the state of each FIX session."""

from django.db import models
from django.utils import timezone

from trading.orders.models import Order


class InboundMessage(models.Model):
    """A message from the routing engine, stored as received (one INSERT, committed
    before QuickFIX counts it as received), then applied by the applier in receive order.
    One that cannot be applied is parked with its reason: never dropped, never blocking."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received, not applied yet"
        APPLIED = "applied", "Applied"
        DUPLICATE = "duplicate", "A redelivery: applied before"
        PARKED = "parked", "Parked: could not be applied"
        IGNORED = "ignored", "Nothing to apply"

    session = models.CharField(max_length=80, help_text="Sender->Target of our side")
    msg_seq_num = models.PositiveIntegerField()
    msg_type = models.CharField(max_length=4)
    poss_dup = models.BooleanField(default=False)
    raw = models.TextField(help_text="The FIX message as received")
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    reason = models.TextField(blank=True, help_text="Why it is parked (or what it did)")
    cl_ord_id = models.CharField(max_length=64, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_messages"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["session", "id"],
                name="inbox_to_apply",
                condition=models.Q(state="received"),
            ),
            models.Index(fields=["state", "id"], name="inbox_state"),
            models.Index(fields=["cl_ord_id"], name="inbox_cl_ord_id"),
            models.Index(fields=["session", "msg_seq_num"], name="inbox_seq"),  # resends
        ]
        verbose_name = "inbound FIX message"

    def __str__(self) -> str:
        return f"35={self.msg_type} #{self.msg_seq_num} from {self.session} ({self.state})"

    @property
    def readable(self) -> str:
        return self.raw.replace("\x01", "|")


class RoutingSession(models.Model):
    """One FIX session of a gateway, as the gateway last reported it (admin, /healthz)."""

    session = models.CharField(max_length=80, unique=True, help_text="Sender->Target")
    partition = models.CharField(max_length=20, blank=True, help_text="k/n of the accounts")
    logged_on = models.BooleanField(default=False)
    logged_on_at = models.DateTimeField(null=True, blank=True)
    logged_out_at = models.DateTimeField(null=True, blank=True)
    next_sender_seq_num = models.PositiveIntegerField(null=True, blank=True)
    next_target_seq_num = models.PositiveIntegerField(null=True, blank=True)
    last_received_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="The gateway process last said it was alive"
    )

    class Meta:
        ordering = ["session"]

    def __str__(self) -> str:
        return f"{self.session} ({'logged on' if self.logged_on else 'logged off'})"
