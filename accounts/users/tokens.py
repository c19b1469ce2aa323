"""API tokens for /api/v1: issued by name with an end date, listed, revoked.

A token is `rt_` and 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored and looked up, so a copy of the database gives no working token. Every token of
a login is revoked when its password changes or is reset, and by "sign out everywhere".
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.utils import timezone

from accounts.users import activity
from accounts.users.models import ApiToken, User, new_security_stamp
from rushtrade.errors import FieldError, ServiceError
from rushtrade.text import INVISIBLE_MESSAGE, has_invisible_characters

log = logging.getLogger(__name__)

TOKEN_PREFIX = "rt_"  # noqa: S105 - a marker, not a secret
MAX_ACTIVE_TOKENS = 20
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class RevokeReason:
    CUSTOMER = "revoked"
    SIGNED_OUT = "signed_out"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a secret
    SIGN_OUT_EVERYWHERE = "sign_out_everywhere"
    STAFF = "staff"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def lifetime_days() -> int:
    return settings.API_TOKEN_LIFETIME_DAYS


def active_tokens(user: User):
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


@transaction.atomic
def issue_token(user: User, name: str = "", days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`, ending after `days` (at most API_TOKEN_LIFETIME_DAYS, the
    default); returns it and its key, which is shown once and never stored."""
    most = lifetime_days()
    days = most if days is None else days
    if not 1 <= days <= most:
        message = f"A token lasts from 1 to {most} days."
        raise ServiceError(
            "invalid", message, {"expires_in_days": FieldError("out_of_range", message)}
        )
    name = (name or "").strip()
    if len(name) > 60:
        message = "A token's name has at most 60 characters."
        raise ServiceError("invalid", message, {"name": FieldError("max_length", message)})
    if has_invisible_characters(name):
        raise ServiceError(
            "invalid",
            INVISIBLE_MESSAGE,
            {"name": FieldError("invalid_characters", INVISIBLE_MESSAGE)},
        )
    # The user row is the lock: two requests at once cannot both pass the cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if active_tokens(user).count() >= MAX_ACTIVE_TOKENS:
        log.warning("token refused: user %s has %s active tokens", user.pk, MAX_ACTIVE_TOKENS)
        raise ServiceError(
            "too_many_tokens",
            f"A login can have at most {MAX_ACTIVE_TOKENS} active tokens: revoke one on "
            "the security page or with DELETE /api/v1/auth/tokens/{id}.",
            status=409,
        )
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name or f"API token {timezone.localtime(now):%Y-%m-%d %H:%M}",
        key_prefix=key[:8],
        key_hash=digest(key),
        expires_at=now + timedelta(days=days),
    )
    activity.record(user, activity.Kind.TOKEN_CREATED, f"{token.name} ({token.key_prefix}…)")
    return token, key


def revoke_token(token: ApiToken, reason: str = RevokeReason.CUSTOMER) -> ApiToken:
    """Revoke at once; revoking twice is a no-op."""
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    token.refresh_from_db()
    if revoked:
        activity.record(
            token.user, activity.Kind.TOKEN_REVOKED, f"{token.name} ({token.key_prefix}…)"
        )
    return token


def revoke_all_tokens(user: User, reason: str) -> int:
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    if count:
        log.info("revoked %s API tokens of user %s (%s)", count, user.pk, reason)
    return count


@transaction.atomic
def sign_out_everywhere(user: User) -> int:
    """End every session (a new security stamp changes every session's auth hash) and
    revoke every API token of `user`; returns the number of tokens revoked."""
    user.security_stamp = new_security_stamp()
    user.save(update_fields=["security_stamp"])
    count = revoke_all_tokens(user, RevokeReason.SIGN_OUT_EVERYWHERE)
    activity.record(
        user,
        activity.Kind.SIGNED_OUT_EVERYWHERE,
        f"{count} API token{'' if count == 1 else 's'} revoked",
    )
    return count


def authenticate_key(key: str) -> ApiToken | None:
    """The live token with this key, with its user, or None."""
    if not key or len(key) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=digest(key)).first()
    now = timezone.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _note_password_change(sender, instance: User, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return
    made_unusable = instance.password.startswith(UNUSABLE_PASSWORD_PREFIX)
    if getattr(instance, "_password", None) is None and not made_unusable:
        # Not set_password() since the last save: an upgrade of the stored hash at sign-in
        # (Django re-hashes the same password), or a save that leaves it alone.
        return
    old = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    # A first password (none before) is not a change of one.
    instance._password_changed = bool(old) and old != instance.password


def _revoke_on_password_change(sender, instance: User, **kwargs):
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False
        count = revoke_all_tokens(instance, RevokeReason.PASSWORD_CHANGED)
        activity.record(
            instance,
            activity.Kind.PASSWORD_CHANGED,
            f"{count} API token{'' if count == 1 else 's'} revoked" if count else "",
        )


def connect_signals() -> None:
    """Any new password (changed, reset, set by staff or manage.py) revokes the tokens."""
    from django.db.models.signals import post_save, pre_save

    pre_save.connect(_note_password_change, sender=User, dispatch_uid="tokens-password")
    post_save.connect(_revoke_on_password_change, sender=User, dispatch_uid="tokens-revoke")
