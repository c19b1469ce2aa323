"""How routing is doing, for the admin Routing page and /healthz: each FIX session's
state, the inbox lag, parked messages, order messages waiting on the engine, rejects."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from trading.orders.models import ExecutionReportLog, Order, OrderStatus, OutboxMessage
from trading.routing import inbox
from trading.routing.models import InboundMessage, RoutingSession

# A gateway that has not said it is alive for this long is taken as down.
HEARTBEAT_STALE = timedelta(seconds=15)


@dataclass
class RoutingStatus:
    sessions: list[RoutingSession]
    inbox_lag_seconds: float
    inbox_counts: dict[str, int]
    parked: int
    unanswered: int  # past FIX_UNANSWERED_AFTER
    waiting: int  # sent, not answered yet
    problems: list[str]

    @property
    def status(self) -> str:
        return "degraded" if self.problems else "ok"


def routing_status(now=None) -> RoutingStatus:
    now = now or timezone.now()
    sessions = list(RoutingSession.objects.all())
    counts = dict(InboundMessage.objects.values_list("state").annotate(n=Count("id")).order_by())
    lag = inbox.lag_seconds()
    waiting = OutboxMessage.objects.filter(sent_at__isnull=False, answered_at__isnull=True)
    late = now - timedelta(seconds=settings.FIX_UNANSWERED_AFTER)
    unanswered = waiting.filter(sent_at__lt=late).count()
    problems = []
    for session in sessions:
        alive = session.heartbeat_at and now - session.heartbeat_at < HEARTBEAT_STALE
        if not alive:
            problems.append(f"gateway of {session.session} is not running")
        elif not session.logged_on:
            problems.append(f"FIX session {session.session} is logged off")
    if lag > settings.FIX_INBOX_LAG_DEGRADED:
        problems.append(f"inbox lag {lag:.0f} s")
    if unanswered:
        problems.append(f"{unanswered} order messages unanswered by the engine")
    parked = counts.get(InboundMessage.State.PARKED, 0)
    if parked:
        problems.append(f"{parked} parked inbound messages")
    return RoutingStatus(
        sessions=sessions,
        inbox_lag_seconds=lag,
        inbox_counts=counts,
        parked=parked,
        unanswered=unanswered,
        waiting=waiting.count(),
        problems=problems,
    )


def unanswered_messages(limit: int = 100):
    late = timezone.now() - timedelta(seconds=settings.FIX_STATUS_REQUEST_AFTER)
    return (
        OutboxMessage.objects.filter(
            sent_at__isnull=False, answered_at__isnull=True, sent_at__lt=late
        )
        .select_related("order__account", "order__security")
        .order_by("sent_at")[:limit]
    )


def recent_rejects(limit: int = 20):
    return (
        Order.objects.filter(status=OrderStatus.REJECTED)
        .select_related("account", "security")
        .order_by("-updated_at")[:limit]
    )


def recent_refusals(limit: int = 20):
    """Cancel rejects and session/business rejects of cancels and replaces."""
    return ExecutionReportLog.objects.filter(
        exec_type__in=("cancel_reject", "reject_3", "reject_j")
    ).order_by("-id")[:limit]
