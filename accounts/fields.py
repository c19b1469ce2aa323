"""Encryption at rest for identity numbers (SSN, ITIN, passport, national and foreign
tax ids), with Fernet from `cryptography`.

Keys come from FIELD_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first: the
first encrypts, all decrypt, so keys rotate without a migration). A keyed HMAC of the
normalised number ("fingerprint") is stored beside it so that the same number used by
two customers can be found without decrypting anything.
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt_text(value: str) -> str:
    """A secret kept in a JSON or text column (e.g. a TOTP key) as a Fernet token."""
    return _fernet().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def fingerprint(value: str) -> str:
    """Keyed hash of a normalised identity number, for duplicate detection."""
    normalised = "".join(ch for ch in value.upper() if ch.isalnum())
    key = hashlib.sha256(b"fingerprint:" + settings.FIELD_ENCRYPTION_KEYS[-1].encode()).digest()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def mask(value: str, keep: int = 4) -> str:
    """The last `keep` characters, the rest as bullets: what pages, admin, API, logs
    and e-mails may show of an identity number."""
    if not value:
        return ""
    tail = value[-keep:]
    return "•" * max(len(value) - keep, 3) + tail


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python sees the plain text."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return _fernet().encrypt(str(value).encode()).decode()

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return _fernet().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ImproperlyConfigured(
                "An encrypted field could not be decrypted: is FIELD_ENCRYPTION_KEYS right?"
            ) from exc

    def get_lookup(self, lookup_name):
        if lookup_name not in {"isnull"}:
            raise TypeError(f"Encrypted fields cannot be queried with '{lookup_name}'.")
        return super().get_lookup(lookup_name)
