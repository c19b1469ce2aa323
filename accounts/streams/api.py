"""`GET /api/v1/events`: the account events of the caller's accounts as server-sent
events, live, and replayed after `Last-Event-ID` (the header a browser's EventSource
sends when it reconnects, or `?last_event_id=`), so a dropped connection resumes
without losing or repeating an event (accounts/events/feed.py).

    id: 1234
    event: order.fill
    data: {"id": 1234, "account_number": "RT12345674", "type": "order.fill",
           "created_at": "...", "data": {...}}

Served by the ASGI server (`uvicorn rushtrade.asgi:application`); a WSGI server cannot
hold the connection open and answers 501. Authenticated by an `/api/v1` token or the
browser's session; `?accounts=RT...,RT...` narrows it to some of the caller's accounts.
"""

import asyncio
import json
import logging

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse, StreamingHttpResponse
from rest_framework import exceptions
from rest_framework.request import Request

from accounts.events.feed import Event, feed
from accounts.opening.models import Account
from accounts.users.authentication import ExpiringTokenAuthentication
from rushtrade.errors import error_body

log = logging.getLogger(__name__)

RETRY_MS = 2000


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    fields = {field: {"code": code, "message": message}} if field else None
    return JsonResponse(error_body(code, message, fields), status=status)


def _token_user(request):
    try:
        found = ExpiringTokenAuthentication().authenticate(Request(request))
    except exceptions.AuthenticationFailed:
        return False
    return found[0] if found else None


def _accounts(user, numbers: list[str]) -> dict[int, str] | None:
    """The caller's accounts (id -> number), those named only; None if one is not theirs."""
    held = dict(Account.objects.filter(holders=user).values_list("id", "account_number"))
    if not numbers:
        return held
    chosen = {pk: number for pk, number in held.items() if number in numbers}
    return chosen if len(chosen) == len(set(numbers)) else None


def encode(event: Event, account_number: str) -> bytes:
    """The event as one server-sent event (encoded once, whoever receives it)."""
    cached = event.encoded.get("sse")
    if cached is None:
        data = {
            "id": event.id,
            "account_number": account_number,
            "type": event.kind,
            "created_at": event.created_at,
            "data": event.payload,
        }
        text = json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"))
        cached = f"id: {event.id}\nevent: {event.kind}\ndata: {text}\n\n".encode()
        event.encoded["sse"] = cached
    return cached


async def _stream(account_numbers: dict[int, str], after: int | None):
    subscription = await feed().subscribe(account_numbers)
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n".encode()
        cursor = after or 0
        if after is not None:
            async for missed in subscription.feed.replay(subscription, after):
                yield b"".join(encode(e, account_numbers[e.account_id]) for e in missed)
                cursor = max(cursor, missed[-1].id)
        while True:
            try:
                first = await asyncio.wait_for(subscription.get(), settings.EVENT_KEEPALIVE_SECONDS)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            waiting = [first]
            while not subscription.queue.empty():
                waiting.append(subscription.queue.get_nowait())
            chunk, closed = [], False
            for event in waiting:
                if event is None:  # too slow: the client reconnects with its Last-Event-ID
                    closed = True
                    break
                if event.id > cursor:  # (a resumed id may be ahead of this server's feed)
                    chunk.append(encode(event, account_numbers[event.account_id]))
                    cursor = event.id
            if chunk:
                yield b"".join(chunk)
            if closed:
                return
    finally:
        subscription.close()


def events(request):
    """GET /api/v1/events (text/event-stream). A plain view (authentication and the
    accounts are looked up before streaming); the stream itself is asynchronous, which
    only an ASGI server can serve."""
    if request.method != "GET":
        return _error(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
    user = _token_user(request)
    if user is False:
        return _error(401, "authentication_failed", "Invalid, expired or revoked token.")
    if user is None and request.user.is_authenticated:
        user = request.user
    if user is None:
        return _error(401, "not_authenticated", "Authentication credentials were not provided.")
    last = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    after = None
    if last not in (None, ""):
        if not last.isdigit() or len(last) > 18:
            return _error(400, "invalid", "Last-Event-ID must be an event id.", "last_event_id")
        after = int(last)
    wanted = [n.strip().upper() for n in request.GET.get("accounts", "").split(",") if n.strip()]
    if len(wanted) > 50:
        return _error(400, "invalid", "At most 50 accounts.", "accounts")
    numbers = _accounts(user, wanted)
    if numbers is None:
        return _error(404, "not_found", "No such account.", "accounts")
    if not isinstance(request, ASGIRequest):
        return _error(
            501,
            "stream_unavailable",
            "The event stream is served by the ASGI server (uvicorn rushtrade.asgi:application).",
        )
    response = StreamingHttpResponse(_stream(numbers, after), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
