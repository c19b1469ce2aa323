"""The stream server's feed of account events on PostgreSQL: the insert trigger's NOTIFY
carries the events that fit in a notification (so the feed hands them on without a
query) and an empty one otherwise (the feed reads the table); either way events reach
the streams in id order, and an id still held by an open transaction holds back the
later ones until it commits, or is passed over once its transaction rolled back."""

import json
import threading
from decimal import Decimal

import psycopg
import pytest
from django.db import connection, transaction

from accounts.events import log as event_log
from accounts.events.feed import feed, notified_events
from accounts.events.models import AccountEvent
from accounts.users import tokens
from tests.asgi_server import wait_for
from tests.events.test_event_stream import SseClient, ids_of, subscribed
from tests.factories import AccountFactory, fund

D = Decimal


@pytest.fixture
def customer(transactional_db):
    account = AccountFactory()
    fund(account, D("10000.00"))
    _, key = tokens.issue_token(account.holders.first())
    return account, key


def listener() -> psycopg.Connection:
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
    }
    conn = psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v})
    conn.execute(f"LISTEN {event_log.CHANNEL}")
    return conn


def next_notification(conn: psycopg.Connection) -> str:
    for notify in conn.notifies(timeout=10, stop_after=1):
        return notify.payload
    raise AssertionError("no notification in 10 s")


def test_notifications_carry_the_events_that_fit(customer):
    account, _ = customer
    conn = listener()
    try:
        with transaction.atomic():
            event_log.record(account.pk, "account.status_changed", {"status": "active", "n": 1})
        [row] = AccountEvent.objects.filter(account=account, kind="account.status_changed")
        [event] = notified_events(next_notification(conn))
        assert (event.id, event.account_id, event.kind, event.payload, event.created_at) == (
            row.id,
            account.pk,
            "account.status_changed",
            {"status": "active", "n": 1},
            row.created_at,
        )

        # Many events in one statement, or one too large: an empty notification (read them).
        event_log.record_many(
            {"account_id": account.pk, "kind": "account.status_changed", "payload": {"n": n}}
            for n in range(20)
        )
        assert next_notification(conn) == ""
        event_log.record(account.pk, "account.status_changed", {"note": "x" * 9000})
        assert next_notification(conn) == ""
        assert notified_events("") is None
    finally:
        conn.close()


def test_notified_and_read_events_arrive_in_id_order(asgi_server, customer):
    account, key = customer
    client = SseClient(f"{asgi_server.url}/api/v1/events", key)
    assert wait_for(lambda: subscribed(account)), "the stream did not subscribe"
    start = AccountEvent.objects.order_by("-id").values_list("id", flat=True).first()
    event_log.record(account.pk, "account.status_changed", {"n": "one"})
    event_log.record_many(  # too many for a notification: read from the table
        {"account_id": account.pk, "kind": "account.status_changed", "payload": {"n": n}}
        for n in range(20)
    )
    event_log.record(account.pk, "account.status_changed", {"n": "last"})
    received = client.events(22)
    assert [int(e["id"]) for e in received] == ids_of(account, after=start)
    assert json.loads(received[-1]["data"])["data"] == {"n": "last"}
    client.close()


@pytest.mark.parametrize("later_bulk", [False, True], ids=["notified", "read"])
@pytest.mark.parametrize("commits", [True, False], ids=["commits", "rolls-back"])
def test_an_id_held_by_an_open_transaction_holds_back_later_events(
    asgi_server, customer, commits, later_bulk
):
    account, key = customer
    client = SseClient(f"{asgi_server.url}/api/v1/events", key)
    assert wait_for(lambda: subscribed(account)), "the stream did not subscribe"
    held, release, taken = threading.Event(), threading.Event(), {}

    class RolledBack(Exception):
        pass

    def open_transaction():
        try:
            with transaction.atomic():
                event_log.record(account.pk, "account.status_changed", {"n": "held"})
                taken["id"] = AccountEvent.objects.filter(account=account).latest("id").id
                held.set()
                release.wait(30)
                if not commits:
                    raise RolledBack
        except RolledBack:
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=open_transaction)
    thread.start()
    try:
        assert held.wait(15), "the open transaction did not write its event"
        if later_bulk:  # too many for a notification: the feed reads them, sees the gap
            event_log.record_many(
                {"account_id": account.pk, "kind": "account.status_changed", "payload": {"n": n}}
                for n in range(20)
            )
            later = ids_of(account, after=taken["id"])
            assert wait_for(lambda: feed()._gap is not None), "the gap was not seen"
        else:  # the feed has the later event from its notification, and holds it back
            event_log.record(account.pk, "account.status_changed", {"n": "later"})
            later = ids_of(account, after=taken["id"])
            assert wait_for(lambda: later[0] in feed()._notified), "not notified"
        assert len(later) == (20 if later_bulk else 1)
    finally:
        release.set()
        thread.join(30)
    expected = ([taken["id"]] if commits else []) + later
    assert [int(e["id"]) for e in client.events(len(expected))] == expected
    client.close()
