"""The live feed of account events inside a stream server (the ASGI process): one
reader per process follows the event table in id order and hands each event to the
subscribers of its account (`/stream`, `/api/v1/events`).

Events come from other processes (web, gateway, worker) through the table itself: on
PostgreSQL the insert trigger's NOTIFY (delivered at commit) wakes the reader at once;
on SQLite (the embedded run) it looks every `EVENT_POLL_SECONDS`. The notification
carries the statement's events themselves when they fit (a fill's event does; a bulk
insert of many does not): the reader then hands them on without a query, and reads the
table only when a notification came empty, an id is missing, or for its safety poll.

Ids are handed out at insert and committed in any order, so the reader delivers only
in id order: it stops at an id not visible yet, and skips it only once it is sure the
transaction that took it rolled back (PostgreSQL: every transaction running when the
gap was seen has ended; at the latest after `EVENT_GAP_SECONDS`, with a warning). What
a subscriber has seen is therefore exactly the events up to its last id, and a dropped
connection resumes from that id (the replay below) without losing or repeating one.
"""

import asyncio
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection

from accounts.events.log import CHANNEL
from accounts.events.models import AccountEvent

log = logging.getLogger(__name__)

BATCH = 1000
QUEUE_LIMIT = 10_000  # events waiting for one subscriber before it is dropped (it resumes)


def database_sync_to_async(func):
    """sync_to_async for database work outside a request (a WebSocket's messages): the
    connection is checked before and after, as Django does around each request."""

    def run(*args, **kwargs):
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run)


@dataclass(eq=False)
class Event:
    """An event as the streams send it; each stream format caches its encoding here, so
    an event fanned out to many subscribers is encoded once per format."""

    id: int
    account_id: int
    kind: str
    payload: dict
    created_at: datetime
    encoded: dict = field(default_factory=dict)

    @classmethod
    def from_row(cls, row) -> "Event":
        return cls(row.id, row.account_id, row.kind, row.payload, row.created_at.astimezone(UTC))


def notified_events(payload: str) -> list[Event] | None:
    """The events a notification carries (the trigger's JSON array of [id, account_id,
    kind, payload, created_at]), or None when it carries none (too large: read them)."""
    if not payload:
        return None
    try:
        return [
            Event(int(i), int(a), k, p, datetime.fromisoformat(c).astimezone(UTC))
            for i, a, k, p, c in json.loads(payload)
        ]
    except (ValueError, TypeError):
        log.warning("Event feed: unreadable notification %r; reading the table", payload[:200])
        return None


class Subscription:
    """A subscriber's queue of events for its accounts. `overflowed` is set (and the
    queue closed) when the subscriber reads too slowly: it reconnects and resumes."""

    def __init__(self, feed: "Feed", account_ids: Iterable[int]):
        self.feed = feed
        self.account_ids = frozenset(account_ids)
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.overflowed = False
        self.position = 0  # the feed's position when it subscribed

    def put(self, event: Event) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            self.overflowed = True
            log.warning(
                "Event stream of accounts %s fell %d events behind: closed (it resumes)",
                sorted(self.account_ids),
                QUEUE_LIMIT,
            )
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(event)

    async def get(self) -> Event | None:
        """The next event, or None once the subscription is closed."""
        return await self.queue.get()

    def close(self) -> None:
        self.feed.unsubscribe(self)


def _rows_after(position: int, limit: int = BATCH) -> list[Event]:
    """Events after `position` in id order (SQLite, through Django)."""
    close_old_connections()
    return [
        Event.from_row(row)
        for row in AccountEvent.objects.filter(id__gt=position).order_by("id")[:limit]
    ]


# PostgreSQL: the reader's own connection, in the event loop. The snapshot's bounds come
# with the rows, from the same statement.
ROWS_AFTER = (
    "WITH s AS (SELECT pg_current_snapshot() AS snap) "  # noqa: S608 (our table name)
    "SELECT pg_snapshot_xmin(s.snap)::text::bigint, pg_snapshot_xmax(s.snap)::text::bigint, "
    "e.id, e.account_id, e.kind, e.payload, e.created_at FROM s LEFT JOIN LATERAL "
    f"(SELECT * FROM {AccountEvent._meta.db_table} WHERE id > %s ORDER BY id LIMIT %s) e "
    "ON true"
)
SNAPSHOT = (
    "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint "
    "FROM pg_current_snapshot() s"
)


def _postgresql_params() -> dict:
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
    }
    return {name: value for name, value in params.items() if value}


def _close_connection() -> None:
    connection.close()  # this thread's


def _last_id() -> int:
    close_old_connections()
    last = AccountEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def replay(account_ids: Iterable[int], after: int, up_to: int, limit: int = BATCH) -> list[Event]:
    """The accounts' events with after < id <= up_to, oldest first (at most `limit`)."""
    try:
        rows = AccountEvent.objects.filter(
            account_id__in=list(account_ids), id__gt=after, id__lte=up_to
        ).order_by("id")[:limit]
        return [Event.from_row(row) for row in rows]
    finally:
        connection.close()  # replays are rare: no connection kept per replay thread


class Feed:
    """The process's reader of the event table and its subscribers (started on first
    use, in the server's event loop)."""

    def __init__(self) -> None:
        self.position: int | None = None
        self.subscribers: dict[int, set[Subscription]] = defaultdict(set)
        self.delivered = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._ready: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        # The reader's queries run on a thread of their own (one database connection);
        # replays on others, so a long replay never holds up the live feed.
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="event-feed")
        self._replayer = ThreadPoolExecutor(4, thread_name_prefix="event-replay")
        self._gap: tuple[int, int | None, float] | None = None  # (id, xmax, first seen)
        self._postgresql = None  # the reader's connection on PostgreSQL
        # Events carried by notifications, after the position, by id; and whether a
        # notification came without its events (the table must be read).
        self._notified: dict[int, Event] = {}
        self._must_read = True

    # --- subscribers ---------------------------------------------------------------------

    async def subscribe(self, account_ids: Iterable[int]) -> Subscription:
        await self.start()
        subscription = Subscription(self, account_ids)
        subscription.position = self.position or 0
        for account_id in subscription.account_ids:
            self.subscribers[account_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for account_id in subscription.account_ids:
            subscribers = self.subscribers.get(account_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self.subscribers[account_id]

    async def replay(self, subscription: Subscription, after: int):
        """What `subscription` missed after id `after`, in batches (oldest first): every
        event of its accounts up to its start position (live delivery goes on from there)."""
        loop = asyncio.get_running_loop()
        cursor = after
        while cursor < subscription.position:
            batch = await loop.run_in_executor(
                self._replayer, replay, subscription.account_ids, cursor, subscription.position
            )
            if batch:
                yield batch
            if len(batch) < BATCH:
                return
            cursor = batch[-1].id

    # --- the reader ----------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new event loop (tests)
            self._loop = loop
            self._wake = asyncio.Event()
            self._ready = asyncio.Event()
            self.position = None
            self._notified = {}
            self._must_read = True
            self._tasks = [loop.create_task(self._read())]
            if connection.vendor == "postgresql":
                self._tasks.append(loop.create_task(self._listen()))
        await self._ready.wait()

    async def stop(self) -> None:
        """Stop reading (the server shuts down) and close the reader's connection."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self._loop = None
        if self._postgresql is not None:
            await self._postgresql.close()
            self._postgresql = None
        await asyncio.get_running_loop().run_in_executor(self._reader, _close_connection)

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while self.position is None:
            try:
                self.position = await loop.run_in_executor(self._reader, _last_id)
            except Exception:
                log.exception("Event feed: cannot read the event table; retrying")
                await asyncio.sleep(1)
        self._ready.set()
        interval = (
            settings.EVENT_POLL_SECONDS
            if connection.vendor != "postgresql"
            else settings.EVENT_SAFETY_POLL_SECONDS
        )
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), interval)
            except TimeoutError:
                self._must_read = True  # the safety poll (SQLite: the poll)
            self._wake.clear()
            try:
                await self._catch_up(loop)
            except Exception:
                self._must_read = True
                log.exception("Event feed: reading events failed; retrying")
                await asyncio.sleep(0.5)

    async def _catch_up(self, loop) -> None:
        """Deliver what is known to be committed: the notified events that follow the
        position, and the table's rows when a notification came empty or an id is
        missing among the notified ones (its transaction still running, rolled back, or
        its events too large for a notification)."""
        while True:
            self._deliver_notified()
            if not (self._must_read or self._notified):
                return
            self._must_read = False
            if await self._read_once(loop):
                self._must_read = True  # a full batch: there may be more
                continue
            self._deliver_notified()
            if self._notified and not self._must_read:
                # Notified events the table did not show yet: look again shortly.
                self._look_again()
                await asyncio.sleep(0.002)
            return

    def _deliver_notified(self) -> None:
        """Hand on the notified events that continue the position without a gap."""
        notified = self._notified
        if not notified:
            return
        position = self.position
        for stale in [i for i in notified if i <= position]:
            del notified[stale]
        while (event := notified.pop(position + 1, None)) is not None:
            self._deliver(event)
            position = self.position = event.id
            self._gap = None

    async def _query(self, sql: str, params=None) -> list[tuple]:
        import psycopg

        if self._postgresql is None or self._postgresql.closed:
            self._postgresql = await psycopg.AsyncConnection.connect(
                autocommit=True, **_postgresql_params()
            )
        try:
            cursor = await self._postgresql.execute(sql, params)
            return await cursor.fetchall()
        except psycopg.OperationalError:
            await self._postgresql.close()
            self._postgresql = None
            raise

    async def _fetch(self, loop) -> tuple[list[Event], tuple[int, int] | None]:
        """Events after the position, and on PostgreSQL the reading snapshot's bounds."""
        if connection.vendor != "postgresql":
            return await loop.run_in_executor(self._reader, _rows_after, self.position), None
        fetched = await self._query(ROWS_AFTER, [self.position, BATCH])
        events = [
            Event(r[2], r[3], r[4], r[5], r[6].astimezone(UTC)) for r in fetched if r[2] is not None
        ]  # psycopg loads jsonb as Python objects
        return events, (fetched[0][0], fetched[0][1])

    async def _read_once(self, loop) -> bool:
        """Deliver what is committed after the position; True if there may be more."""
        events, snapshot = await self._fetch(loop)
        expected = self.position + 1
        for event in events:
            if event.id != expected and not await self._skip_gap(loop, expected, snapshot):
                return False
            self._deliver(event)
            self.position = event.id
            expected = event.id + 1
            self._gap = None
        return len(events) == BATCH

    async def _skip_gap(self, loop, missing: int, snapshot) -> bool:
        """Whether id `missing` (not visible, a later one is) will never commit.

        The transaction that took the id is running or rolled back. A snapshot's xmax
        taken a little after the gap was first seen is above its transaction id (an
        INSERT gets its id within microseconds of taking the sequence value); once the
        oldest running transaction is past that xmax, it has ended."""
        now = time.monotonic()
        if snapshot is None:  # SQLite: writers are serialized, a gap is a rollback
            return True
        if self._gap is None or self._gap[0] != missing:
            self._gap = (missing, None, now)
            self._look_again()
            await asyncio.sleep(0.002)
            return False
        _, xmax, seen = self._gap
        [(xmin_now, xmax_now)] = await self._query(SNAPSHOT)
        if xmax is None and now - seen >= 0.02:
            self._gap = (missing, xmax_now, seen)
        elif xmax is not None and xmin_now >= xmax:
            return True  # every transaction that could hold the id has ended
        if now - seen > settings.EVENT_GAP_SECONDS:
            log.warning(
                "Event feed: event id %d still not committed after %s s: skipped",
                missing,
                settings.EVENT_GAP_SECONDS,
            )
            return True
        self._look_again()
        await asyncio.sleep(0.005)
        return False

    def _look_again(self) -> None:
        """Read the table again at once (a gap is being waited for)."""
        self._must_read = True
        self._wake.set()

    def _deliver(self, event: Event) -> None:
        for subscription in self.subscribers.get(event.account_id, ()):
            subscription.put(event)
        self.delivered += 1

    async def _listen(self) -> None:
        """LISTEN on its own connection: each notification wakes the reader, with the
        events it carries (if any)."""
        import psycopg

        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    autocommit=True, **_postgresql_params()
                )
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._must_read = True  # catch up on what came while not listening
                    self._wake.set()
                    async for notify in conn.notifies():
                        events = notified_events(notify.payload)
                        if events is None:
                            self._must_read = True
                        else:
                            position = self.position or 0
                            for event in events:
                                if event.id > position:
                                    self._notified[event.id] = event
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("Event feed: LISTEN connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(1)


_feed: Feed | None = None
_feed_lock = threading.Lock()


def feed() -> Feed:
    """This process's feed."""
    global _feed
    with _feed_lock:
        if _feed is None:
            _feed = Feed()
        return _feed
