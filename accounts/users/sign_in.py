"""Two-factor sign-in with django-allauth's MFA (TOTP, WebAuthn passkeys and security
keys, recovery codes): our allauth adapters, the staff rule, and step-up before
sensitive actions.

- Staff must have a second factor: the admin refuses a staff login without one and
  sends it to set one up; a staff login cannot remove its last one.
- Codes are throttled like passwords: allauth's `login_failed` limit (ACCOUNT_RATE_LIMITS)
  counts wrong codes per login; passwords are throttled by django-axes, so allauth's own
  count of wrong passwords is switched off here, not in the settings.
- Step-up: some actions need a sign-in of the last ACCOUNT_REAUTHENTICATION_TIMEOUT
  seconds with the strongest factor the login has: a code or passkey where 2FA is on,
  the password otherwise.
"""

import logging
import time
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings

from accounts.fields import decrypt_text, encrypt_text

log = logging.getLogger(__name__)

SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


def has_two_factor(user) -> bool:
    """Whether the login has a second factor (an authenticator app or a passkey)."""
    return user.is_authenticated and is_mfa_enabled(user, types=SECOND_FACTORS)


def second_factors(user) -> list[Authenticator]:
    """The login's authenticator app and passkeys (not its recovery codes)."""
    return list(Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS))


def verify_code(user, code: str) -> bool:
    """Whether `code` is the login's current authenticator app code (each is good once)
    or one of its unused recovery codes (then used up)."""
    for authenticator in Authenticator.objects.filter(user=user).exclude(
        type=Authenticator.Type.WEBAUTHN
    ):
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return True
    return False


def recently_stepped_up(request) -> bool:
    """Whether this session signed in, or confirmed it is the customer, recently enough,
    with the login's strongest factor."""
    wanted = "mfa" if has_two_factor(request.user) else "password"
    oldest = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    return any(
        record.get("method") == wanted and record.get("at", 0) >= oldest
        for record in get_authentication_records(request, request.user)
    )


def step_up_required(view=None, *, when=None, methods=("POST",)):
    """Before `view` runs for one of `methods` (and `when(request, *args, **kwargs)` is
    true, if given), ask for the strongest factor again unless it was given recently;
    allauth keeps the request and replays it once the customer has confirmed."""

    def decorator(view_func):
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            if (
                request.method in methods
                and request.user.is_authenticated
                and (when is None or when(request, *args, **kwargs))
                and not recently_stepped_up(request)
            ):
                log.warning(
                    "step-up asked of user %s before %s %s",
                    request.user.pk,
                    request.method,
                    request.path,
                )
                raise ReauthenticationRequired()
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


@dataclass(frozen=True)
class Site:
    """What allauth's e-mails call the site: the firm's name, and the portal's address
    (SITE_URL), never the host name the request happened to use."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def render_mail(self, template_prefix, email, context, headers=None):
        site_url = settings.SITE_URL
        context = {
            **context,
            "current_site": Site("RushTrade", urlsplit(site_url).netloc or site_url),
            "site_url": site_url,
        }
        return super().render_mail(template_prefix, email, context, headers)

    def pre_authenticate(self, request, **credentials) -> None:
        """Wrong passwords are counted by django-axes (one policy for the web, admin and
        API logins); allauth's `login_failed` limit is left to 2FA codes."""

    def get_reauthentication_methods(self, user) -> list[dict]:
        """With 2FA on, confirming it is you takes the second factor, not the password."""
        methods = super().get_reauthentication_methods(user)
        if has_two_factor(user):
            methods = [m for m in methods if m["id"] != "reauthenticate"]
        return methods


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_issuer(self) -> str:
        return "RushTrade"

    def encrypt(self, text: str) -> str:
        """TOTP keys and recovery code seeds are stored encrypted (FIELD_ENCRYPTION_KEYS)."""
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_text(encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Staff keep at least one second factor."""
        user = authenticator.user
        if not user.is_staff or authenticator.type not in SECOND_FACTORS:
            return True
        others = Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exclude(
            pk=authenticator.pk
        )
        if not others.exists():
            log.warning("staff user %s may not remove the last second factor", user.pk)
            return False
        return True
