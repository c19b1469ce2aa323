"""SFTP delivery of the outbound files to the clearing firm, and fetching its morning
files (docs/clearing.md, "SFTP").

Each outbound file is uploaded under a temporary name and renamed to its final name on
the server, so the clearing firm never takes half a file. A file is delivered once: its
row says `delivered` only after the rename, and a retry that finds the final name on the
server with the same bytes (a crash between the rename and the commit) marks it
delivered without sending it again. The server's host key is always checked.
"""

import base64
import hashlib
import logging
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paramiko
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from trading.clearing import files
from trading.clearing.models import ClearingFile, Delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    username: str
    path: str  # where outbound files go
    inbound_path: str  # where the clearing firm's files are ("": not fetched)
    password: str
    key_file: str
    key_passphrase: str
    known_hosts: str
    fingerprint: str
    timeout: int


def enabled() -> bool:
    return bool(settings.CLEARING_SFTP_URL)


def config() -> Config:
    """The SFTP settings, checked: a URL with user and host, a way to authenticate, and
    a way to check the server's host key (never skipped)."""
    url = urlsplit(settings.CLEARING_SFTP_URL)
    if url.scheme != "sftp" or not url.hostname or not url.username:
        raise ImproperlyConfigured("CLEARING_SFTP_URL must look like sftp://user@host:port/path")
    password = settings.CLEARING_SFTP_PASSWORD or unquote(url.password or "")
    if not (settings.CLEARING_SFTP_KEY_FILE or password):
        raise ImproperlyConfigured(
            "SFTP delivery needs CLEARING_SFTP_KEY_FILE (a private key) or CLEARING_SFTP_PASSWORD"
        )
    if not (settings.CLEARING_SFTP_KNOWN_HOSTS or settings.CLEARING_SFTP_HOST_KEY_FINGERPRINT):
        raise ImproperlyConfigured(
            "SFTP delivery needs the server's host key: CLEARING_SFTP_KNOWN_HOSTS or "
            "CLEARING_SFTP_HOST_KEY_FINGERPRINT (host key checking is never turned off)"
        )
    return Config(
        host=url.hostname,
        port=url.port or 22,
        username=unquote(url.username),
        path=unquote(url.path) or ".",
        inbound_path=settings.CLEARING_SFTP_INBOUND_PATH,
        password=password,
        key_file=settings.CLEARING_SFTP_KEY_FILE,
        key_passphrase=settings.CLEARING_SFTP_KEY_PASSPHRASE,
        known_hosts=settings.CLEARING_SFTP_KNOWN_HOSTS,
        fingerprint=settings.CLEARING_SFTP_HOST_KEY_FINGERPRINT,
        timeout=settings.CLEARING_SFTP_TIMEOUT,
    )


def check_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check (`manage.py check`, every start): SFTP settings that would refuse
    every delivery are an error at start-up, not only a WARNING at the first delivery."""
    if not enabled():
        return []
    try:
        cfg = config()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="clearing.E001")]
    errors = []
    for name, path in (
        ("CLEARING_SFTP_KEY_FILE", cfg.key_file),
        ("CLEARING_SFTP_KNOWN_HOSTS", cfg.known_hosts),
    ):
        if path and not Path(path).is_file():
            errors.append(checks.Error(f"{name}: no file at {path}", id="clearing.E002"))
    if cfg.fingerprint and not cfg.fingerprint.startswith("SHA256:"):
        errors.append(
            checks.Error(
                "CLEARING_SFTP_HOST_KEY_FINGERPRINT must be a SHA256 fingerprint "
                "(SHA256:..., as `ssh-keygen -l -E sha256` prints it)",
                id="clearing.E003",
            )
        )
    return errors


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint of a public key (`ssh-keygen -l -E sha256`)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class _Fingerprint(paramiko.MissingHostKeyPolicy):
    """Accept the server only if its key has the configured fingerprint."""

    def __init__(self, expected: str) -> None:
        self.expected = expected

    def missing_host_key(self, client, hostname, key) -> None:
        if not self.expected or fingerprint(key) != self.expected:
            raise paramiko.SSHException(
                f"host key of {hostname} ({fingerprint(key)}) is not the one configured"
            )


def connect(cfg: Config) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    if cfg.known_hosts:
        client.load_host_keys(cfg.known_hosts)
    # An unknown host is refused unless its key has the configured fingerprint.
    client.set_missing_host_key_policy(_Fingerprint(cfg.fingerprint))
    try:
        client.connect(
            cfg.host,
            port=cfg.port,
            username=cfg.username,
            password=cfg.password or None,
            key_filename=cfg.key_file or None,
            passphrase=cfg.key_passphrase or None,
            timeout=cfg.timeout,
            banner_timeout=cfg.timeout,
            auth_timeout=cfg.timeout,
            channel_timeout=cfg.timeout,
            allow_agent=False,
            look_for_keys=False,
        )
    except Exception:
        client.close()
        raise
    return client


def _remote_sha256(sftp: paramiko.SFTPClient, path: str) -> str | None:
    try:
        with sftp.open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except FileNotFoundError:
        return None


def _upload(sftp: paramiko.SFTPClient, remote_dir: str, row: ClearingFile, content: bytes) -> bool:
    """Put the file on the server under its final name; False if it was there already
    (same bytes: an earlier attempt got that far)."""
    final = f"{remote_dir.rstrip('/')}/{row.name}"
    there = _remote_sha256(sftp, final)
    if there == row.sha256:
        return False
    if there is not None:
        raise OSError(f"{final} is on the server with other content: not overwritten")
    temporary = f"{remote_dir.rstrip('/')}/.{row.name}.tmp"
    with sftp.open(temporary, "wb") as handle:
        handle.write(content)
    if sftp.stat(temporary).st_size != len(content):
        raise OSError(f"{temporary}: short upload")
    try:
        sftp.posix_rename(temporary, final)
    except OSError:
        # A server without OpenSSH's posix-rename: SFTP's own rename, which refuses an
        # existing target (there is none: checked above).
        sftp.rename(temporary, final)
    return True


def pending() -> list[int]:
    return list(
        ClearingFile.objects.filter(
            direction=ClearingFile.Direction.OUTBOUND, delivery=Delivery.PENDING
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )


@dataclass
class DeliveryResult:
    delivered: list[str]
    failed: list[str]


def deliver_pending() -> DeliveryResult:
    """Send every outbound file not delivered yet, oldest first, over one connection. A
    failure leaves the file pending with the reason (a WARNING naming it) for the next
    run; a file another worker is sending is skipped."""
    result = DeliveryResult([], [])
    ids = pending()
    if not ids:
        return result
    try:
        cfg = config()
    except ImproperlyConfigured as error:
        _failed(ids, str(error), result)
        return result
    try:
        client = connect(cfg)
    except Exception as error:  # network, authentication, host key: all retried later
        _failed(ids, f"cannot connect to {cfg.host}:{cfg.port}: {error!r}", result)
        return result
    handled = 0
    try:
        sftp = client.open_sftp()
        for pk in ids:
            _deliver_one(sftp, cfg, pk, result)
            handled += 1
    except Exception as error:
        reason = f"SFTP session with {cfg.host}:{cfg.port} failed: {error!r}"
        _failed(ids[handled:], reason, result)
    finally:
        client.close()
    return result


def _deliver_one(sftp, cfg: Config, pk: int, result: DeliveryResult) -> None:
    with transaction.atomic():
        # Locked while it is sent: a concurrent run skips it instead of sending it too.
        row = (
            ClearingFile.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, delivery=Delivery.PENDING)
            .first()
        )
        if row is None:
            return
        row.delivery_attempts += 1
        try:
            content = (Path(settings.CLEARING_OUTBOX_DIR) / row.name).read_bytes()
            if hashlib.sha256(content).hexdigest() != row.sha256:
                raise OSError(f"{row.name} in the outbox is not the file written")
            sent = _upload(sftp, cfg.path, row, content)
        except (OSError, paramiko.SSHException) as error:
            if isinstance(error, paramiko.SSHException) or not sftp.get_channel().active:
                raise
            row.delivery_error = f"{error!r}"[:500]
            row.save(update_fields=["delivery_attempts", "delivery_error"])
            log.warning("Clearing: SFTP delivery of %s failed: %s", row.name, row.delivery_error)
            result.failed.append(row.name)
            return
        row.delivery = Delivery.DELIVERED
        row.delivered_at = timezone.now()
        row.delivery_error = ""
        row.save(update_fields=["delivery", "delivered_at", "delivery_attempts", "delivery_error"])
    log.info(
        "Clearing: delivered %s to %s:%s%s",
        row.name,
        cfg.host,
        cfg.path,
        "" if sent else " (it was there already)",
    )
    result.delivered.append(row.name)


def _failed(ids: list[int], reason: str, result: DeliveryResult) -> None:
    for row in ClearingFile.objects.filter(pk__in=ids, delivery=Delivery.PENDING).order_by("id"):
        row.delivery_attempts += 1
        row.delivery_error = reason[:500]
        row.save(update_fields=["delivery_attempts", "delivery_error"])
        log.warning("Clearing: SFTP delivery of %s failed: %s", row.name, reason)
        result.failed.append(row.name)


def fetch_inbound() -> list[str]:
    """Copy the clearing firm's files from its server's folder into CLEARING_INBOX_DIR
    (each written atomically; a name already in the inbox is not fetched again). Loading
    them is the inbox's business, as for files that arrive by other means."""
    cfg = config()
    if not cfg.inbound_path:
        return []
    inbox = Path(settings.CLEARING_INBOX_DIR)
    fetched = []
    client = connect(cfg)
    try:
        sftp = client.open_sftp()
        for entry in sorted(sftp.listdir_attr(cfg.inbound_path), key=lambda e: e.filename):
            name = entry.filename
            if (
                name.startswith(".")
                or not name.endswith(".csv")
                or not stat.S_ISREG(entry.st_mode or 0)
                or (inbox / name).exists()
            ):
                continue
            with sftp.open(f"{cfg.inbound_path.rstrip('/')}/{name}", "rb") as handle:
                content = handle.read()
            files.write_atomically(inbox, name, content)
            fetched.append(name)
            log.info("Clearing: fetched %s from %s:%s", name, cfg.host, cfg.inbound_path)
    finally:
        client.close()
    return fetched
