"""The account event log: one row for every change a customer's programs and pages
follow (orders, executions, transfers, the account's status), written in the same
transaction as the change. It is the one source of the streams (`/stream`,
`/api/v1/events`) and of their replay."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AccountEvent(models.Model):
    """`id` only grows: a stream's position is the last id it delivered. `kind` is
    `order.<trade update event>` (new, fill, partial_fill, canceled, ...),
    `transfer.<status>` or `account.<change>`; `payload` is what the streams send."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=40)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"], name="account_event_replay")]

    def __str__(self) -> str:
        return f"#{self.id} {self.kind}"
