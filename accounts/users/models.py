"""The login: a user identified by e-mail address."""

import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

__all__ = ["ApiToken", "EmailUserManager", "SecurityEvent", "User"]


def new_security_stamp() -> str:
    return secrets.token_hex(16)


class EmailUserManager(UserManager):
    """Users are created and looked up by e-mail; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person who logs in: a customer, or staff. The e-mail address is the login."""

    username = None
    email = models.EmailField("e-mail address", unique=True)
    # Part of every session's auth hash: a new stamp ("sign out everywhere") ends every
    # session of this login, as a new password does.
    security_stamp = models.CharField(max_length=32, default=new_security_stamp, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_session_auth_hash(self) -> str:
        return salted_hmac(
            "rushtrade.users.session",
            f"{self.password}${self.security_stamp}",
            algorithm="sha256",
        ).hexdigest()

    def get_session_auth_fallback_hash(self):
        from django.conf import settings

        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield salted_hmac(
                "rushtrade.users.session",
                f"{self.password}${self.security_stamp}",
                secret=fallback_secret,
                algorithm="sha256",
            ).hexdigest()


class ApiToken(models.Model):
    """A token for `/api/v1` (`Authorization: Token <key>`). Only a SHA-256 of the key is
    kept (the key is 256 random bits, so a fast hash is enough); the key is shown once.
    A token ends at `expires_at`, when revoked, and when its user's password changes."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=60)
    key_prefix = models.CharField(max_length=12, help_text="The key's first characters")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        indexes = [models.Index(fields=["user", "revoked_at"], name="accounts_token_user_active")]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class SecurityEvent(models.Model):
    """One line of a login's security activity (accounts/users/activity.py): sign-ins and
    failures, two-factor changes, tokens and keys, password and e-mail changes, bank links.
    Append-only: the portal never deletes a line nor changes what it says (only `emailed`,
    once the notice has gone out); the customer sees their own
    on the security page, staff see all in admin (read-only)."""

    class Kind(models.TextChoices):
        SIGNED_IN = "signed_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", "Signed out everywhere"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        EMAIL_CHANGED = "email_changed", "E-mail address changed"
        TWO_FACTOR_ADDED = "two_factor_added", "Two-factor method added"
        TWO_FACTOR_REMOVED = "two_factor_removed", "Two-factor method removed"
        RECOVERY_CODES_RENEWED = "recovery_codes_renewed", "Recovery codes renewed"
        TOKEN_CREATED = "token_created", "API token created"
        TOKEN_REVOKED = "token_revoked", "API token revoked"
        API_KEY_CREATED = "api_key_created", "Trading API key created"
        API_KEY_REVOKED = "api_key_revoked", "Trading API key revoked"
        BANK_LINKED = "bank_linked", "Bank account linked"
        BANK_UNLINKED = "bank_unlinked", "Bank account removed"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="security_events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    emailed = models.BooleanField(default=False, help_text="A notice was e-mailed")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at"], name="accounts_security_user_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.user_id}, {self.at:%Y-%m-%d %H:%M})"
