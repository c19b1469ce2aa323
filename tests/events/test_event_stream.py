"""GET /api/v1/events against the ASGI server: live events of the caller's accounts as
server-sent events, replayed after Last-Event-ID so that a dropped connection resumes
with exactly the events it missed, none twice, none of anyone else's."""

import json
from decimal import Decimal

import pytest
import requests

from accounts.events.feed import feed
from accounts.events.models import AccountEvent
from accounts.users import tokens
from tests.asgi_server import wait_for
from tests.factories import AccountFactory, fund
from trading.orders import entry

D = Decimal


class SseClient:
    """Reads a text/event-stream response event by event (with a read timeout)."""

    def __init__(self, url, token, last_event_id=None, params=None):
        headers = {"Authorization": f"Token {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(
            url, headers=headers, params=params, stream=True, timeout=(10, 20)
        )
        self.lines = self.response.iter_lines(decode_unicode=True)

    def next_event(self) -> dict:
        fields = {}
        for line in self.lines:
            if line == "":
                if "data" in fields:
                    return fields
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        raise AssertionError("the stream ended")

    def events(self, count: int) -> list[dict]:
        return [self.next_event() for _ in range(count)]

    def close(self):
        self.response.close()


def place(account, qty=1, price="90.00"):
    order, _ = entry.place_order(
        account,
        None,
        symbol="ACME",
        side="buy",
        order_type="limit",
        time_in_force="gtc",
        qty=qty,
        limit_price=price,
    )
    return order


@pytest.fixture
def customer(transactional_db):
    account = AccountFactory()
    fund(account, D("10000.00"))
    _, key = tokens.issue_token(account.holders.first())
    return account, key


def ids_of(account, after=0):
    return list(
        AccountEvent.objects.filter(account=account, id__gt=after).values_list("id", flat=True)
    )


def subscribed(account):
    return bool(feed().subscribers.get(account.pk))


def test_live_events_and_replay_after_last_event_id(asgi_server, customer, acme):
    account, key = customer
    other = AccountFactory()
    fund(other, D("10000.00"))
    url = f"{asgi_server.url}/api/v1/events"

    first = SseClient(url, key)
    assert first.response.status_code == 200
    assert first.response.headers["Content-Type"].startswith("text/event-stream")
    assert wait_for(lambda: subscribed(account)), "the stream did not subscribe"
    order = place(account)
    place(other)  # not this customer's: never sent to them
    event = first.next_event()
    data = json.loads(event["data"])
    assert event["event"] == "order.pending_new" == data["type"]
    assert data["account_number"] == account.account_number
    assert data["data"]["order"]["id"] == str(order.uuid)
    assert int(event["id"]) == data["id"] == ids_of(account)[-1]
    seen = int(event["id"])
    first.close()  # the connection drops; more happens meanwhile
    assert wait_for(lambda: not subscribed(account)), "the dropped stream is still subscribed"

    entry.cancel_order(order, None)
    second = place(account, 2)
    missed = ids_of(account, after=seen)
    assert len(missed) == 2

    resumed = SseClient(url, key, last_event_id=seen)
    replayed = resumed.events(2)
    assert [int(e["id"]) for e in replayed] == missed
    assert [e["event"] for e in replayed] == ["order.pending_cancel", "order.pending_new"]
    assert json.loads(replayed[1]["data"])["data"]["order"]["id"] == str(second.uuid)
    # Live again after the replay, with nothing repeated.
    wait_for(lambda: subscribed(account))
    entry.cancel_order(second, None)
    live = resumed.next_event()
    assert live["event"] == "order.pending_cancel" and int(live["id"]) > missed[-1]
    resumed.close()


def test_replay_by_query_parameter_and_account_filter(asgi_server, customer, acme):
    account, key = customer
    start = AccountEvent.objects.order_by("-id").values_list("id", flat=True).first()
    place(account)
    place(account, 3)
    client = SseClient(
        f"{asgi_server.url}/api/v1/events",
        key,
        params={"last_event_id": start, "accounts": account.account_number},
    )
    events = client.events(2)
    assert [e["event"] for e in events] == ["order.pending_new", "order.pending_new"]
    assert [int(e["id"]) for e in events] == ids_of(account, after=start)
    client.close()


def test_refusals_are_json_errors(asgi_server, customer):
    _, key = customer
    url = f"{asgi_server.url}/api/v1/events"
    anonymous = requests.get(url, timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    wrong = requests.get(url, headers={"Authorization": "Token nope"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["code"] == "authentication_failed"
    other = AccountFactory()
    theirs = requests.get(
        url,
        headers={"Authorization": f"Token {key}"},
        params={"accounts": other.account_number},
        timeout=10,
    )
    assert theirs.status_code == 404 and theirs.json()["fields"]["accounts"]["code"] == "not_found"
    bad = requests.get(
        url, headers={"Authorization": f"Token {key}", "Last-Event-ID": "x1"}, timeout=10
    )
    assert bad.status_code == 400 and "last_event_id" in bad.json()["fields"]


@pytest.mark.django_db
def test_wsgi_server_answers_501(client, customer):
    _, key = customer
    response = client.get("/api/v1/events", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 501 and response.json()["code"] == "stream_unavailable"
