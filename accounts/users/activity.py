"""A login's security activity: one append-only line (SecurityEvent) for each sign-in and
failed sign-in, two-factor change, API token and key, password and e-mail change and bank
link, with the time, IP address and browser of the request that made it. The sensitive
ones are also e-mailed to the customer, so a change they did not make does not go unseen.

`record()` is called where each change happens (tokens, API keys, bank links) and from the
signals of Django and allauth (`connect_signals`). The request's address and browser come
from `SecurityContextMiddleware`, so services need no request passed down to them.
"""

import logging
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.users.models import SecurityEvent, User

log = logging.getLogger(__name__)

Kind = SecurityEvent.Kind

# Changes a customer is told about by e-mail (whoever made them).
NOTIFY = frozenset(
    {
        Kind.PASSWORD_CHANGED,
        Kind.EMAIL_CHANGED,
        Kind.TWO_FACTOR_ADDED,
        Kind.TWO_FACTOR_REMOVED,
        Kind.RECOVERY_CODES_RENEWED,
        Kind.API_KEY_CREATED,
        Kind.BANK_LINKED,
        Kind.SIGNED_OUT_EVERYWHERE,
    }
)

_request: ContextVar[tuple[str | None, str] | None] = ContextVar("security_request", default=None)


def _client(request) -> tuple[str | None, str]:
    from axes.helpers import get_client_ip_address  # the proxy rules axes already uses

    address = get_client_ip_address(request) or None
    agent = request.META.get("HTTP_USER_AGENT", "")
    return address, "".join(ch for ch in agent if ch.isprintable())[:300]


class SecurityContextMiddleware:
    """Keeps the request's address and browser for `record()` during the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(_client(request))
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def record(
    user: User, kind: str, detail: str = "", request=None, notify_also: str = ""
) -> SecurityEvent:
    """Write one line of `user`'s security activity; e-mail a notice of the sensitive
    kinds once the transaction commits (to `notify_also` as well: an address the notice
    must reach besides the current one, e.g. the old one after an e-mail change)."""
    address, agent = _client(request) if request is not None else (_request.get() or (None, ""))
    event = SecurityEvent.objects.create(
        user=user,
        kind=kind,
        ip_address=address,
        user_agent=agent,
        detail=detail[:200],
    )
    if kind in NOTIFY:
        recipients = [a for a in dict.fromkeys([user.email, notify_also]) if a]
        transaction.on_commit(lambda: _send_notice(event, recipients))
    return event


def _send_notice(event: SecurityEvent, recipients: list[str]) -> None:
    context = {
        "event": event,
        "when": timezone.localtime(event.at),
        "security_url": f"{settings.SITE_URL.rstrip('/')}/security/",
    }
    try:
        send_mail(
            f"RushTrade security notice: {event.get_kind_display()}",
            render_to_string("users/security_notice.txt", context),
            None,
            recipients,
        )
        # Marked once it went out, so that the page and admin say what really happened.
        SecurityEvent.objects.filter(pk=event.pk).update(emailed=True)
    except Exception:  # the change is made; a mail server down must not undo it
        log.warning(
            "security notice %s (%s) for user %s not sent",
            event.pk,
            event.kind,
            event.user_id,
            exc_info=True,
        )


def recent(user: User, limit: int = 20):
    return SecurityEvent.objects.filter(user=user)[:limit]


# --- Signals -----------------------------------------------------------------------------


def _signed_in(sender, request, user, **kwargs):
    if isinstance(user, User):
        record(user, Kind.SIGNED_IN, request=request)


def _sign_in_failed(sender, credentials, request=None, **kwargs):
    login = credentials.get("email") or credentials.get("username") or ""
    user = User.objects.filter(email__iexact=str(login).strip()).first() if login else None
    if user is not None:  # an unknown address has no activity to add to
        record(user, Kind.SIGN_IN_FAILED, request=request)


def _email_changed(sender, request, user, from_email_address=None, to_email_address=None, **kw):
    old = getattr(from_email_address, "email", "") or ""
    new = getattr(to_email_address, "email", "") or user.email
    record(user, Kind.EMAIL_CHANGED, f"{old} → {new}" if old else new, request, notify_also=old)


def _authenticator(kind):
    def handler(sender, request, user, authenticator=None, **kwargs):
        label = authenticator.get_type_display() if authenticator is not None else ""
        record(user, kind, label, request)

    return handler


_two_factor_added = _authenticator(Kind.TWO_FACTOR_ADDED)
_two_factor_removed = _authenticator(Kind.TWO_FACTOR_REMOVED)
_recovery_codes_renewed = _authenticator(Kind.RECOVERY_CODES_RENEWED)


def _code_failed(sender, request, user, authenticator=None, **kwargs):
    record(user, Kind.SIGN_IN_FAILED, "wrong two-factor code", request)


def connect_signals() -> None:
    from allauth.account import signals as account_signals
    from allauth.mfa import signals as mfa_signals

    user_logged_in.connect(_signed_in, dispatch_uid="security-signed-in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="security-sign-in-failed")
    account_signals.email_changed.connect(_email_changed, dispatch_uid="security-email")
    mfa_signals.authenticator_added.connect(_two_factor_added, dispatch_uid="security-2fa-add")
    mfa_signals.authenticator_removed.connect(
        _two_factor_removed, dispatch_uid="security-2fa-remove"
    )
    mfa_signals.authenticator_reset.connect(
        _recovery_codes_renewed, dispatch_uid="security-2fa-reset"
    )
    mfa_signals.authentication_failed.connect(_code_failed, dispatch_uid="security-2fa-failed")
