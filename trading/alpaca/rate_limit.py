"""Requests per minute per API key, counted in the cache (Redis in production), in
fixed one-minute windows like Alpaca's: every answer carries `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix time the window ends); past the
limit the answer is 429 until then."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateLimit:
    limit: int
    remaining: int
    reset: int  # Unix time

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(self.reset),
        }


def consume(key_id: str, now: float | None = None) -> RateLimit:
    """Count one request of `key_id` in the current window."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    reset = (window + 1) * WINDOW_SECONDS
    limit = settings.ALPACA_RATE_LIMIT
    name = f"alpaca-rl:{key_id}:{window}"
    cache.add(name, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    return RateLimit(limit, limit - count, reset)
