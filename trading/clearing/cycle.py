"""The daily cycle with the clearing firm: the evening's outbound files, the morning's
loading, corporate actions and reconciliation (docs/clearing.md, "The daily cycle")."""

import logging
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.utils import timezone

from trading.clearing import corporate_actions, inbound, outbound, reconcile, sftp
from trading.clearing.models import ClearingFile, FileType, ReconciliationRun
from trading.market.calendar import is_trading_day

log = logging.getLogger(__name__)


def evening(business_date: date | None = None) -> outbound.OutboundResult | None:
    """Write the day's outbound files; nothing on a day that is no NYSE session (unless
    a date is given)."""
    day = business_date or timezone.localdate()
    if business_date is None and not is_trading_day(day):
        log.info("Clearing: %s is no NYSE session, no files", day)
        return None
    return outbound.write_outbound_files(day)


def deliver() -> sftp.DeliveryResult | None:
    """Send the outbound files not delivered yet by SFTP (None: SFTP delivery is off)."""
    if not sftp.enabled():
        return None
    return sftp.deliver_pending()


def fetch() -> list[str]:
    """Fetch the clearing firm's new files from its SFTP server into the inbox (when
    configured); a failure is a WARNING and the files already in the inbox still load."""
    if not (sftp.enabled() and settings.CLEARING_SFTP_INBOUND_PATH):
        return []
    try:
        return sftp.fetch_inbound()
    except Exception as error:  # network, host key, configuration: tried again next run
        log.warning("Clearing: fetching the clearing firm's files by SFTP failed: %r", error)
        return []


@dataclass
class Morning:
    fetched: list[str] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    undelivered: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    actions_applied: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)


def morning(today: date | None = None) -> Morning:
    """Load the inbox, apply the corporate actions due, and reconcile every business
    date whose files are in and that was not reconciled yet."""
    today = today or timezone.localdate()
    result = Morning()
    delivery = deliver()  # the evening's files that could not go then
    if delivery:
        result.delivered, result.undelivered = delivery.delivered, delivery.failed
    result.fetched = fetch()
    for row in inbound.load_inbox():
        if getattr(row, "seen_before", False):
            continue  # loaded or rejected on an earlier run: nothing done now
        (result.rejected if row.status == ClearingFile.Status.REJECTED else result.loaded).append(
            row.name
        )
    result.actions_applied = [a.action_id for a in corporate_actions.apply_due(today)]
    done = set(ReconciliationRun.objects.values_list("business_date", flat=True))
    dates = (
        ClearingFile.objects.filter(
            direction=ClearingFile.Direction.INBOUND,
            status=ClearingFile.Status.LOADED,
            file_type=FileType.CASH,
        )
        .values_list("business_date", flat=True)
        .distinct()
    )
    for day in sorted(set(dates) - done):
        if reconcile.inputs_for(day) is None:
            log.warning("Clearing: the files of %s are not all in: not reconciled", day)
            continue
        reconcile.reconcile(day)
        result.reconciled.append(day.isoformat())
    return result
