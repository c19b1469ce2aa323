"""SFTP delivery of the day's files to a real SFTP server (asyncssh's, on loopback): the
bytes arrive whole under their final names, once; a stopped server leaves the files
undelivered with a WARNING and the next run delivers them; the host key is checked; the
clearing firm's files are fetched from the server and loaded (docs/clearing.md, "SFTP")."""

import logging
import shutil

import paramiko
import pytest
from django.core import checks
from django.urls import reverse
from django.utils import timezone

from tests.factories import StaffFactory
from trading.clearing import cycle, sftp
from trading.clearing.models import ClearingFile, Delivery
from trading.clearing.tasks import DeliveryFailed, write_clearing_files
from trading.simulation import clearing_firm

from .conftest import open_account, trade
from .sftp_server import SFTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def server(tmp_path):
    server = SFTPServer(tmp_path / "sftp-root", tmp_path / "keys").start()
    (server.root / "to-clearing").mkdir()
    (server.root / "from-clearing").mkdir()
    yield server
    server.shutdown()


@pytest.fixture
def sftp_settings(settings, server):
    settings.CLEARING_SFTP_URL = f"sftp://rush@127.0.0.1:{server.port}/to-clearing"
    settings.CLEARING_SFTP_KEY_FILE = str(server.client_key_file)
    settings.CLEARING_SFTP_KNOWN_HOSTS = str(server.known_hosts)
    settings.CLEARING_SFTP_HOST_KEY_FINGERPRINT = ""
    settings.CLEARING_SFTP_INBOUND_PATH = "/from-clearing"
    settings.CLEARING_SFTP_TIMEOUT = 10
    return settings


@pytest.fixture
def day(acme):
    first, second = open_account(), open_account(cash="5000.00")
    trade(first, "buy", 10, "100.00", "X1")
    trade(second, "buy", 20, "99.00", "X2")
    trade(second, "sell", 5, "101.00", "X3")
    return timezone.localdate()


def outbound():
    return list(ClearingFile.objects.filter(direction="out").order_by("name"))


def test_the_days_files_arrive_byte_for_byte_once(day, server, sftp_settings):
    cycle.evening(day)
    assert {row.delivery for row in outbound()} == {Delivery.PENDING}

    result = cycle.deliver()

    rows = outbound()
    assert sorted(result.delivered) == [row.name for row in rows] and result.failed == []
    remote = server.root / "to-clearing"
    assert sorted(p.name for p in remote.iterdir()) == [row.name for row in rows]  # no .tmp
    for row in rows:
        local = (sftp_settings.CLEARING_OUTBOX_DIR / row.name).read_bytes()
        assert (remote / row.name).read_bytes() == local
        assert row.delivery == Delivery.DELIVERED and row.delivered_at is not None
        assert row.delivery_attempts == 1 and row.delivery_error == ""

    # Run again: nothing pending, nothing sent.
    assert cycle.deliver().delivered == []
    # A crash after the rename but before the commit: the row is pending again, the file
    # is on the server. The retry recognises it and does not upload it a second time.
    trades = next(row for row in rows if "_TRADES_" in row.name)
    inode = (remote / trades.name).stat().st_ino
    ClearingFile.objects.filter(pk=trades.pk).update(delivery=Delivery.PENDING, delivered_at=None)
    assert cycle.deliver().delivered == [trades.name]
    assert (remote / trades.name).stat().st_ino == inode
    trades.refresh_from_db()
    assert trades.delivery == Delivery.DELIVERED and trades.delivery_attempts == 2


def test_a_stopped_server_leaves_files_undelivered_until_the_next_run(
    day, server, sftp_settings, caplog, client
):
    server.stop()
    cycle.evening(day)
    with caplog.at_level(logging.WARNING, logger="trading.clearing.sftp"):
        result = cycle.deliver()

    rows = outbound()
    assert result.delivered == [] and sorted(result.failed) == [row.name for row in rows]
    for row in rows:
        assert row.delivery == Delivery.PENDING and row.delivered_at is None
        assert row.delivery_attempts == 1 and "cannot connect" in row.delivery_error
        assert any(row.name in r.getMessage() for r in caplog.records if r.levelname == "WARNING")

    # Staff see it in admin → Clearing files: not delivered, with the reason.
    client.force_login(StaffFactory())
    page = client.get(
        reverse("admin:trading_clearingfile_changelist"), {"delivery__exact": "pending"}
    ).content.decode()
    assert all(row.name in page for row in rows) and "cannot connect" in page

    server.start()  # the same port again
    result = cycle.morning(day)  # the morning run delivers what the evening could not

    assert sorted(result.delivered) == [row.name for row in rows]
    for row in outbound():
        assert row.delivery == Delivery.DELIVERED and row.delivery_error == ""
        assert (server.root / "to-clearing" / row.name).read_bytes() == (
            sftp_settings.CLEARING_OUTBOX_DIR / row.name
        ).read_bytes()


def test_the_host_key_is_checked(day, server, sftp_settings, caplog):
    # Another server's key in known_hosts: refused.
    other = paramiko.Ed25519Key.from_private_key_file(str(server.client_key_file))
    server.known_hosts.write_text(f"[127.0.0.1]:{server.port} ssh-ed25519 {other.get_base64()}\n")
    cycle.evening(day)
    with caplog.at_level(logging.WARNING, logger="trading.clearing.sftp"):
        assert cycle.deliver().delivered == []
    assert {row.delivery for row in outbound()} == {Delivery.PENDING}
    assert not list((server.root / "to-clearing").iterdir())

    # No known_hosts, a wrong fingerprint: refused; the right one: delivered.
    sftp_settings.CLEARING_SFTP_KNOWN_HOSTS = ""
    sftp_settings.CLEARING_SFTP_HOST_KEY_FINGERPRINT = sftp.fingerprint(other)
    assert cycle.deliver().delivered == []
    # Neither: not even tried (host key checking is never turned off).
    sftp_settings.CLEARING_SFTP_HOST_KEY_FINGERPRINT = ""
    assert cycle.deliver().delivered == []
    assert "host key" in outbound()[0].delivery_error

    # The right fingerprint, as the server's own library (and `ssh-keygen -l`) prints it.
    sftp_settings.CLEARING_SFTP_HOST_KEY_FINGERPRINT = server.host_key.get_fingerprint("sha256")
    assert len(cycle.deliver().delivered) == 3


def test_the_clearing_firms_files_are_fetched_and_loaded(day, server, sftp_settings):
    cycle.evening(day)
    cycle.deliver()
    clearing_firm.answer(day)  # writes its files to the local inbox: move them to its server
    inbox = sftp_settings.CLEARING_INBOX_DIR
    names = sorted(p.name for p in inbox.glob("*.csv"))
    for name in names:
        shutil.move(inbox / name, server.root / "from-clearing" / name)
    assert len(names) == 4 and not list(inbox.glob("*.csv"))

    result = cycle.morning(day)

    assert sorted(result.fetched) == names and sorted(result.loaded) == names
    assert result.reconciled == [day.isoformat()]
    for name in names:
        assert (inbox / name).read_bytes() == (server.root / "from-clearing" / name).read_bytes()
    assert cycle.morning(day).fetched == []  # fetched once


def test_the_evening_task_retries_while_files_are_undelivered(day, server, sftp_settings):
    server.stop()
    cycle.evening(day)
    with pytest.raises(DeliveryFailed, match="RUSH_TRADES_"):
        write_clearing_files()  # called directly: the retry raises what made it retry
    assert {row.delivery for row in outbound()} == {Delivery.PENDING}

    server.start()
    write_clearing_files()
    assert {row.delivery for row in outbound()} == {Delivery.DELIVERED}


def clearing_checks():
    return sorted(m.id for m in checks.run_checks() if m.id.startswith("clearing."))


def test_settings_that_refuse_every_delivery_fail_the_system_check(sftp_settings, tmp_path):
    assert clearing_checks() == []
    sftp_settings.CLEARING_SFTP_KNOWN_HOSTS = ""
    assert clearing_checks() == ["clearing.E001"]  # no host key to check against
    sftp_settings.CLEARING_SFTP_KNOWN_HOSTS = str(tmp_path / "missing")
    sftp_settings.CLEARING_SFTP_HOST_KEY_FINGERPRINT = "ab:cd"
    assert clearing_checks() == ["clearing.E002", "clearing.E003"]
    sftp_settings.CLEARING_SFTP_URL = ""
    assert clearing_checks() == []  # SFTP off: nothing to check
