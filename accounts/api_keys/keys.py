"""Trading API keys: make, revoke and check them.

The secret is 40 random characters (about 238 bits), so a fast keyed hash is as safe
as a slow password hasher and keeps every API request cheap: we store a per-key salt
and HMAC-SHA256(salt, secret), and compare in constant time.
"""

import hashlib
import hmac
import logging
import secrets
import string
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.api_keys.models import ApiKey
from accounts.opening.models import Account, AccountStatus
from accounts.users import activity
from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError
from rushtrade.text import INVISIBLE_MESSAGE, has_invisible_characters

log = logging.getLogger(__name__)

KEY_ID_PREFIX = "RK"
KEY_ID_LENGTH = 20  # like Alpaca's key ids: upper-case letters and digits
SECRET_LENGTH = 40
MAX_ACTIVE_KEYS = 10
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits


def _hash(secret: str, salt: str) -> str:
    return hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()


def _secret_hash(secret: str) -> str:
    salt = secrets.token_hex(16)
    return f"hmac-sha256${salt}${_hash(secret, salt)}"


def secret_matches(secret: str, stored: str) -> bool:
    try:
        algorithm, salt, digest = stored.split("$")
    except ValueError:
        return False
    return algorithm == "hmac-sha256" and hmac.compare_digest(_hash(secret, salt), digest)


@transaction.atomic
def create_api_key(account: Account, user: User | None, name: str = "") -> tuple[ApiKey, str]:
    """A new key for `account`; returns it and its secret (shown once, never stored)."""
    if account.status == AccountStatus.CLOSED:
        raise ServiceError("account_closed", "A closed account cannot have API keys.", status=409)
    if has_invisible_characters(name or ""):
        raise ServiceError(
            "invalid",
            INVISIBLE_MESSAGE,
            {"name": FieldError("invalid_characters", INVISIBLE_MESSAGE)},
        )
    # The account row is the lock. Locking the active keys was not enough: a row another
    # transaction inserts meanwhile is not among them, so two requests could both pass.
    Account.objects.select_for_update().filter(pk=account.pk).first()
    if ApiKey.objects.filter(account=account, revoked_at__isnull=True).count() >= MAX_ACTIVE_KEYS:
        log.warning("API key refused: account %s has %s active keys", account.pk, MAX_ACTIVE_KEYS)
        raise ServiceError(
            "too_many_keys",
            f"An account can have at most {MAX_ACTIVE_KEYS} active keys: revoke one first.",
            status=409,
        )
    key_id = KEY_ID_PREFIX + "".join(
        secrets.choice(_ALPHABET) for _ in range(KEY_ID_LENGTH - len(KEY_ID_PREFIX))
    )
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
    key = ApiKey.objects.create(
        account=account,
        key_id=key_id,
        secret_hash=_secret_hash(secret),
        name=name.strip()[:60],
        created_by=user,
    )
    _record(key, activity.Kind.API_KEY_CREATED, user)
    return key, secret


def _record(key: ApiKey, kind: str, user: User | None) -> None:
    """On the activity of whoever did it if a holder, else of every holder (staff
    revoking a customer's key)."""
    holders = list(key.account.holders.all())
    words = f"{key.key_id} on {key.account.account_number}"
    if key.name:
        words += f" ({key.name})"
    for holder in [user] if user in holders else holders:
        activity.record(holder, kind, words)


def revoke_api_key(key: ApiKey, user: User | None) -> ApiKey:
    """Revoke at once: the next request with this key gets 401. Revoking twice is a no-op."""
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=user
    )
    key.refresh_from_db()
    if revoked:
        _record(key, activity.Kind.API_KEY_REVOKED, user)
    return key


def active_keys_of_user(user: User):
    """The active keys of every account `user` holds, with their accounts."""
    return (
        ApiKey.objects.filter(account__holders=user, revoked_at__isnull=True)
        .select_related("account")
        .distinct()
    )


def authenticate(key_id: str, secret: str) -> ApiKey | None:
    """The active key with this id and secret, with its account, or None."""
    if not key_id or not secret or len(key_id) > 40 or len(secret) > 200:
        return None
    key = (
        ApiKey.objects.select_related("account", "created_by")
        .filter(key_id=key_id, revoked_at__isnull=True)
        .first()
    )
    if key is None:
        _hash(secret, "0" * 32)  # the same work as a known key: no timing hint
        return None
    if not secret_matches(secret, key.secret_hash):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
