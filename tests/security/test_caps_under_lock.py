"""Caps hold under concurrency: 20 watchlist adds at once from 45 end at 50; 20 API keys
made at once end at 10 active; 20 tokens at once end at the token cap."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from accounts.users import tokens
from rushtrade.errors import ServiceError
from tests.factories import AccountFactory, UserFactory
from trading.market import watchlist
from trading.market.models import Security, WatchlistItem

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)"),
    pytest.mark.django_db(transaction=True),
]


def run_at_once(count: int, work) -> list[str]:
    """Run `work(i)` in `count` threads released together; the outcome of each."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run(i):
        try:
            barrier.wait()
            work(i)
            outcomes.append("ok")
        except ServiceError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_watchlist_adds_stop_at_the_cap(settings):
    user = UserFactory()
    securities = [
        Security.objects.create(
            symbol=f"W{i:03d}", name=f"W{i}", exchange="NYSE", reference_price=Decimal("10")
        )
        for i in range(65)
    ]
    for security in securities[:45]:
        WatchlistItem.objects.create(
            user=user, watchlist=watchlist.default_watchlist(user), security=security
        )

    outcomes = run_at_once(20, lambda i: watchlist.add_symbol(user, securities[45 + i].symbol))
    assert outcomes.count("ok") == 5
    assert outcomes.count("watchlist_full") == 15
    assert WatchlistItem.objects.filter(user=user).count() == settings.WATCHLIST_MAX_SYMBOLS


def test_concurrent_api_key_creation_stops_at_the_cap():
    account = AccountFactory()
    user = account.holders.get()
    for _ in range(keys.MAX_ACTIVE_KEYS - 2):
        keys.create_api_key(account, user)

    outcomes = run_at_once(20, lambda i: keys.create_api_key(account, user, f"k{i}"))
    assert outcomes.count("ok") == 2
    assert outcomes.count("too_many_keys") == 18
    assert ApiKey.objects.filter(account=account, revoked_at__isnull=True).count() == 10


def test_concurrent_token_issue_stops_at_the_cap():
    user = UserFactory()
    for _ in range(tokens.MAX_ACTIVE_TOKENS - 3):
        tokens.issue_token(user)

    outcomes = run_at_once(20, lambda i: tokens.issue_token(user, f"t{i}"))
    assert outcomes.count("ok") == 3
    assert tokens.active_tokens(user).count() == tokens.MAX_ACTIVE_TOKENS
