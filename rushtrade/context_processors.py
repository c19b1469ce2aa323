"""Template context for every page."""

from django.conf import settings


def live_pages(request) -> dict:
    """How often a live page polls while the event stream is down (static/portal/live.js)."""
    return {"PAGE_POLL_SECONDS": settings.PAGE_POLL_SECONDS}
