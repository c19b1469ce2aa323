"""The outbound files of a business day: trades, new and changed accounts, money
movements (docs/clearing.md), written once a day each to CLEARING_OUTBOX_DIR."""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from accounts.money.models import JournalEntryKind, LedgerAccountKind, Posting
from accounts.opening.models import Account, AccountHolder
from trading.clearing import files, sftp
from trading.clearing.models import ClearingFile, Delivery, FileType, SentAccount, SentRecord
from trading.orders.models import Execution, OrderSide

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
# Cash entries the clearing firm hears of from the money file (trades go in the trades
# file; dividends come from it; the portal's adjustments to its figures stay here).
MONEY_KINDS = (
    JournalEntryKind.DEPOSIT,
    JournalEntryKind.WITHDRAWAL,
    JournalEntryKind.FEE,
    JournalEntryKind.INTEREST,
    JournalEntryKind.ADJUSTMENT,
)
CLEARING_KEY_PREFIX = "clearing:"
ADDED_ACCOUNT_FIELDS = ("treaty_country",)


def end_of(day: date) -> datetime:
    """Midnight after `day` in the firm's time zone: a trade date is a date there."""
    return datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )


def cusip_of(isin: str) -> str:
    return isin[2:11] if len(isin) == 12 and isin[:2] in ("US", "CA") else ""


@cache
def _file_key() -> Fernet:
    if not settings.CLEARING_FILE_KEY:
        raise ImproperlyConfigured(
            "CLEARING_FILE_KEY must be set: the accounts file encrypts identity numbers with it."
        )
    return Fernet(settings.CLEARING_FILE_KEY.encode())


def _customer_posting(field: str):
    return Subquery(
        Posting.objects.filter(
            entry=OuterRef("journal_entry"), ledger_account__kind=LedgerAccountKind.CUSTOMER_CASH
        ).values(field)[:1]
    )


# --- Records ---------------------------------------------------------------------------------


def trade_records(business_date: date) -> tuple[list[dict], list[int], list[int]]:
    """New trades not reported yet (up to the end of the business date) and busts of
    reported ones; with the execution ids of each."""
    end = end_of(business_date)
    sent = SentRecord.objects.filter(kind=SentRecord.Kind.TRADE).values("ref")
    cancelled = SentRecord.objects.filter(kind=SentRecord.Kind.CANCEL).values("ref")
    base = Execution.objects.select_related("order__account", "order__security").annotate(
        net_amount=_customer_posting("amount"), settles_on=_customer_posting("settles_on")
    )
    new = list(
        base.filter(executed_at__lt=end, journal_entry__isnull=False)
        .filter(Q(busted_at__isnull=True) | Q(busted_at__gte=end))
        .exclude(pk__in=sent)
        .order_by("executed_at", "pk")
    )
    busts = list(
        base.filter(pk__in=sent, busted_at__lt=end).exclude(pk__in=cancelled).order_by("pk")
    )
    records = [_trade(e, "N") for e in new] + [_trade(e, "X") for e in busts]
    return records, [e.pk for e in new], [e.pk for e in busts]


def _trade(execution: Execution, action: str) -> dict:
    order = execution.order
    security = order.security
    return {
        "action": action,
        "reference": f"E{execution.pk}",
        "account_number": order.account.account_number,
        "symbol": security.symbol,
        "cusip": cusip_of(security.isin),
        "isin": security.isin,
        "side": "B" if order.side == OrderSide.BUY else "S",
        "qty": execution.qty,
        "price": execution.price.quantize(Decimal("0.0001")),
        "trade_date": timezone.localtime(execution.executed_at).date(),
        "settlement_date": execution.settles_on,
        "principal": (execution.price * execution.qty).quantize(CENT, ROUND_HALF_UP),
        "commission": execution.commission,
        "fees": execution.fees,
        "net_amount": execution.net_amount,
        "capacity": "A",
        "exec_id": execution.exec_id,
    }


def money_records(business_date: date) -> tuple[list[dict], list[int]]:
    """Cash entries on customer accounts that the clearing firm must book, not reported
    yet: ACH transfers, staff journals, reversals of entries reported before."""
    end = end_of(business_date)
    sent = SentRecord.objects.filter(kind=SentRecord.Kind.MONEY).values("ref")
    postings = (
        Posting.objects.filter(
            ledger_account__kind=LedgerAccountKind.CUSTOMER_CASH, entry__created_at__lt=end
        )
        .filter(
            (
                Q(entry__kind__in=MONEY_KINDS)
                & ~Q(entry__idempotency_key__startswith=CLEARING_KEY_PREFIX)
            )
            | Q(entry__kind=JournalEntryKind.REVERSAL, entry__reverses__in=sent)
        )
        .exclude(entry__in=sent)
        .select_related("entry", "entry__transfer", "ledger_account__account")
        .order_by("entry__created_at", "entry_id")
    )
    records, ids = [], []
    for posting in postings:
        entry = posting.entry
        ach = entry.kind in (JournalEntryKind.DEPOSIT, JournalEntryKind.WITHDRAWAL)
        transfer = getattr(entry, "transfer", None) if ach else None
        records.append(
            {
                "type": "ACH" if ach else "JNL",
                "reference": f"J{entry.pk}",
                "account_number": posting.ledger_account.account.account_number,
                "direction": "IN" if posting.amount > 0 else "OUT",
                "amount": posting.amount,
                "date": timezone.localtime(entry.created_at).date(),
                "settlement_date": posting.settles_on,
                "transfer_reference": f"T{transfer.pk}" if transfer else "",
                "description": entry.description,
            }
        )
        ids.append(entry.pk)
    return records, ids


def account_records(business_date: date) -> tuple[list[dict], list[tuple[int, str]]]:
    """Accounts opened by the end of the business date whose record is new or changed
    since last sent; with (account id, record hash) of each."""
    end = end_of(business_date)
    last_sent = dict(SentAccount.objects.values_list("account_id", "record_hash"))
    holders = {
        h.account_id: h.user
        for h in AccountHolder.objects.filter(role=AccountHolder.Role.PRIMARY).select_related(
            "user"
        )
    }
    records, sent = [], []
    for account in Account.objects.filter(opened_at__lt=end).select_related("application"):
        record, fingerprint = _account(account, holders.get(account.pk))
        # A field added to the format changes the hash only where it has a value: adding
        # it does not send every account again.
        hashed = {k: v for k, v in record.items() if v or k not in ADDED_ACCOUNT_FIELDS}
        digest = hashlib.sha256(
            json.dumps([hashed, fingerprint], sort_keys=True, default=str).encode()
        ).hexdigest()
        previous = last_sent.get(account.pk)
        if previous == digest:
            continue
        tax_id = account.application.tax_id if account.application_id else ""
        record["action"] = "C" if previous else "N"
        record["tax_id_encrypted"] = _file_key().encrypt(tax_id.encode()).decode() if tax_id else ""
        records.append(record)
        sent.append((account.pk, digest))
    return records, sent


def _account(account: Account, user) -> tuple[dict, str]:
    app = account.application
    value = (lambda name: getattr(app, name) or "") if app else (lambda name: "")
    return {
        "account_number": account.account_number,
        "account_type": account.account_type,
        "status": account.status,
        "opened_on": timezone.localtime(account.opened_at).date(),
        "given_name": value("given_name"),
        "middle_name": value("middle_name"),
        "family_name": value("family_name"),
        "date_of_birth": app.date_of_birth if app else None,
        "email": value("email") or (user.email if user else ""),
        "phone": value("phone"),
        "street": value("street_address"),
        "street_2": value("street_address_2"),
        "city": value("city"),
        "state": value("state"),
        "postal_code": value("postal_code"),
        "country": str(value("country")),
        "citizenship": str(value("citizenship")),
        "tax_id_type": value("tax_id_type"),
        "tax_id_last4": value("tax_id_last4"),
        "tax_form": value("tax_form"),
        "treaty_country": str(value("treaty_country")),
    }, value("tax_id_fingerprint")


# --- Writing the day's files -----------------------------------------------------------------


@dataclass(frozen=True)
class OutboundResult:
    files: list[ClearingFile]
    skipped: list[str]  # types already written for the day


def write_outbound_files(business_date: date) -> OutboundResult:
    """Write the day's trades, accounts and money files (each once a business date: a
    repeated run writes nothing and returns the files written before)."""
    written, skipped = [], []
    for file_type, build in (
        (FileType.TRADES, _trades_file),
        (FileType.ACCOUNTS, _accounts_file),
        (FileType.MONEY, _money_file),
    ):
        existing = ClearingFile.objects.filter(
            direction=ClearingFile.Direction.OUTBOUND,
            file_type=file_type,
            business_date=business_date,
        ).first()
        if existing:
            skipped.append(file_type)
            written.append(existing)
            continue
        written.append(build(business_date))
    return OutboundResult(written, skipped)


def _next_sequence(file_type: str) -> int:
    last = (
        ClearingFile.objects.select_for_update()
        .filter(direction=ClearingFile.Direction.OUTBOUND, file_type=file_type)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    return (last or 0) + 1


def _record_file(file_type: str, business_date: date, records: list[dict]) -> ClearingFile:
    """The file's row first, then the file, in the caller's transaction: a concurrent run
    waits on the row's unique constraints and fails before it writes anything; if the
    row cannot be committed, the next run writes the same name with the same sequence."""
    sequence = _next_sequence(file_type)
    sender, receiver = settings.CLEARING_CORRESPONDENT_ID, settings.CLEARING_FIRM_ID
    content, totals = files.render(file_type, sender, receiver, business_date, sequence, records)
    name = files.file_name(sender, file_type, business_date, sequence)
    row = ClearingFile.objects.create(
        direction=ClearingFile.Direction.OUTBOUND,
        file_type=file_type,
        business_date=business_date,
        sequence=sequence,
        name=name,
        sha256=hashlib.sha256(content).hexdigest(),
        status=ClearingFile.Status.WRITTEN,
        record_count=len(records),
        control_totals=totals,
        delivery=Delivery.PENDING if sftp.enabled() else "",
    )
    files.write_atomically(settings.CLEARING_OUTBOX_DIR, name, content)
    log.info("Clearing: wrote %s (%d records)", name, len(records))
    return row


@transaction.atomic
def _trades_file(business_date: date) -> ClearingFile:
    records, new, busts = trade_records(business_date)
    row = _record_file(FileType.TRADES, business_date, records)
    SentRecord.objects.bulk_create(
        [SentRecord(kind=SentRecord.Kind.TRADE, ref=pk, file=row) for pk in new]
        + [SentRecord(kind=SentRecord.Kind.CANCEL, ref=pk, file=row) for pk in busts]
    )
    return row


@transaction.atomic
def _money_file(business_date: date) -> ClearingFile:
    records, ids = money_records(business_date)
    row = _record_file(FileType.MONEY, business_date, records)
    SentRecord.objects.bulk_create(
        [SentRecord(kind=SentRecord.Kind.MONEY, ref=pk, file=row) for pk in ids]
    )
    return row


@transaction.atomic
def _accounts_file(business_date: date) -> ClearingFile:
    records, sent = account_records(business_date)
    row = _record_file(FileType.ACCOUNTS, business_date, records)
    for account_id, digest in sent:
        SentAccount.objects.update_or_create(
            account_id=account_id, defaults={"record_hash": digest, "file": row}
        )
    return row
