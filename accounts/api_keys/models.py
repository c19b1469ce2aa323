"""Trading API keys."""

from django.db import models

from accounts.opening.models import Account
from accounts.users.models import User

__all__ = ["ApiKey"]


class ApiKey(models.Model):
    """A key pair for one account. The key id is public (shown on the page, sent in the
    `APCA-API-KEY-ID` header); of the secret only a salted HMAC-SHA256 is kept, so it is
    shown once, when the key is made. A revoked key stays for the record."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="api_keys")
    key_id = models.CharField(max_length=20, unique=True)
    secret_hash = models.CharField(max_length=120)
    name = models.CharField(max_length=60, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.key_id} ({self.account.account_number})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
