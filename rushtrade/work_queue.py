"""The admin home as a work queue: what is waiting on staff (or on a system staff
watch), each with its count and a link to the list that works it off.

Each queue is a count of one indexed filter; the admin home runs them all on every
visit (a dozen small queries), so the numbers are never stale.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    count: int
    url: str
    note: str = ""
    urgent: bool = False  # something is wrong, not merely waiting

    @property
    def waiting(self) -> bool:
        return self.count > 0


def _changelist(name: str, **filters) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def work_queues(now=None, routing=None) -> list[Queue]:
    """Every queue, in the order a clerk would work them: people first, then money, then
    the order path (its counts as `trading.routing.status.routing_status` gives them)."""
    from accounts.money.models import Transfer, TransferStatus
    from accounts.opening.models import AccountApplication, ApplicationStatus
    from accounts.profile.models import ProfileChange
    from trading.orders.models import OutboxMessage
    from trading.routing.models import InboundMessage
    from trading.routing.status import routing_status

    now = now or timezone.now()
    applications = AccountApplication.objects.all()
    submitted = applications.filter(status=ApplicationStatus.SUBMITTED).count()
    review = applications.filter(status=ApplicationStatus.ACTION_REQUIRED).count()
    flagged = (
        applications.filter(events__action="data_flagged")
        .exclude(status__in=[ApplicationStatus.APPROVED, ApplicationStatus.REJECTED])
        .distinct()
        .count()
    )
    transfers = Transfer.objects.filter(
        status__in=[TransferStatus.REQUESTED, TransferStatus.PENDING]
    )
    stale_transfers = transfers.filter(requested_at__lt=now - timedelta(days=2)).count()
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    routing = routing or routing_status(now)
    unanswered = routing.unanswered
    lockouts = _lockouts()
    profile_changes = ProfileChange.objects.filter(status=ProfileChange.Status.PENDING).count()
    return [
        Queue(
            "applications_submitted",
            "Applications waiting for a decision",
            submitted,
            _changelist("accounts_accountapplication", status__exact=ApplicationStatus.SUBMITTED),
            "clean applications, when ACCOUNT_AUTO_APPROVE is off",
        ),
        Queue(
            "applications_review",
            "Applications held for review",
            review,
            _changelist(
                "accounts_accountapplication", status__exact=ApplicationStatus.ACTION_REQUIRED
            ),
            "flagged by a check (PEP, affiliation, identity, jurisdiction) or waiting on "
            "information asked of the applicant",
        ),
        Queue(
            "applications_flagged",
            "Open applications with flagged data",
            flagged,
            _changelist("accounts_accountapplication", flagged="yes"),
            "saved data a later check doubted",
        ),
        Queue(
            "profile_changes",
            "Profile changes to review",
            profile_changes,
            _changelist("accounts_profilechange", status__exact=ProfileChange.Status.PENDING),
            "new legal names, moves abroad or to an unregistered state",
        ),
        Queue(
            "transfers",
            "Transfers to approve or complete",
            transfers.count(),
            _changelist("accounts_transfer", status__in="requested,pending"),
            f"{stale_transfers} requested more than 2 days ago" if stale_transfers else "",
            urgent=stale_transfers > 0,
        ),
        Queue(
            "orders_unsent",
            "Order messages not yet sent to the routing engine",
            unsent.count(),
            _changelist("trading_outboxmessage", sent_at__isempty="1"),
            "the gateway sends them; a growing number means it is down",
        ),
        Queue(
            "orders_waiting",
            "Order messages waiting on the routing engine",
            routing.waiting,
            _changelist("trading_outboxmessage", sent_at__isempty="0", answered_at__isempty="1"),
            f"{unanswered} unanswered for more than {settings.FIX_UNANSWERED_AFTER} s"
            if unanswered
            else "",
            urgent=unanswered > 0,
        ),
        Queue(
            "inbound_parked",
            "Parked inbound FIX messages",
            routing.parked,
            _changelist("trading_inboundmessage", state__exact=InboundMessage.State.PARKED),
            "could not be applied: fix the cause, then apply them again",
            urgent=True,
        ),
        Queue(
            "inbound_unapplied",
            "Inbound FIX messages not applied yet",
            routing.inbox_counts.get(InboundMessage.State.RECEIVED, 0),
            _changelist("trading_inboundmessage", state__exact=InboundMessage.State.RECEIVED),
            "the gateway's applier works them off in order",
        ),
        Queue(
            "lockouts",
            "Logins locked out after failed sign-ins",
            lockouts,
            _changelist("axes_accessattempt"),
            f"at least {settings.AXES_FAILURE_LIMIT} failures; they end by themselves",
        ),
    ]


def _lockouts() -> int:
    from axes.models import AccessAttempt

    since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    return AccessAttempt.objects.filter(
        Q(failures_since_start__gte=settings.AXES_FAILURE_LIMIT), attempt_time__gte=since
    ).count()


def statistics_links() -> list[tuple[str, str]]:
    return [
        ("Monthly firm statistics (table and charts)", reverse("staff-statistics")),
        ("Statistics as CSV", reverse("staff-statistics-csv")),
        ("Routing", _changelist("trading_routingsession")),
    ]
