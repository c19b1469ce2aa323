"""Funding: bank links and ACH transfers (deposits and withdrawals).

A deposit moves money only when it completes. A withdrawal is checked against
withdrawable cash with the account locked and holds its amount from the request on,
so concurrent withdrawals cannot spend the same dollar; completing it posts the
journal entry and releases the hold in one transaction.
"""

import re
from datetime import timedelta
from decimal import Decimal

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from stdnum import exceptions as stdnum_errors
from stdnum.us import rtn

from accounts.events import log as event_log
from accounts.fields import fingerprint
from accounts.money import ledger
from accounts.money.amounts import clean_amount
from accounts.money.models import (
    BankAccountType,
    BankLink,
    Hold,
    JournalEntryKind,
    LedgerAccountKind,
    Transfer,
    TransferDirection,
    TransferStatus,
)
from accounts.opening.models import Account, AccountStatus
from accounts.users import activity
from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError
from rushtrade.text import INVISIBLE_MESSAGE, has_invisible_characters

MAX_BANK_LINKS = 3


def _transfer_event(transfer: Transfer) -> None:
    """The account event of a transfer's new status (one INSERT, in its transaction)."""
    event_log.record(
        transfer.account_id,
        f"transfer.{transfer.status}",
        {
            "id": transfer.pk,
            "direction": transfer.direction,
            "amount": str(transfer.amount),
            "status": transfer.status,
            "requested_at": transfer.requested_at,
            "submitted_at": transfer.submitted_at,
            "completed_at": transfer.completed_at,
            "reason": transfer.reason or None,
        },
    )


def _invalid(field: str, code: str, message: str, status: int = 400) -> ServiceError:
    return ServiceError(code, message, {field: FieldError(code, message)}, status=status)


def _require_holder(account: Account, user: User) -> None:
    if not account.holders.filter(pk=user.pk).exists():
        raise ServiceError("not_found", "No such account.", status=404)


def _require_active(account: Account) -> None:
    if account.status != AccountStatus.ACTIVE:
        raise ServiceError(
            "account_not_active",
            f"This account is {account.get_status_display().lower()}.",
            status=409,
        )


# --- Bank links ------------------------------------------------------------------------------


@transaction.atomic
def link_bank(
    account: Account,
    user: User,
    *,
    routing_number: str,
    bank_account_number: str,
    bank_account_type: str,
    nickname: str = "",
) -> BankLink:
    _require_holder(account, user)
    _require_active(account)
    errors = {}
    try:
        routing = rtn.validate(routing_number or "")
    except stdnum_errors.ValidationError:
        errors["routing_number"] = FieldError(
            "invalid_routing_number",
            "This is not a valid ABA routing number (9 digits with a valid check digit).",
        )
    number = re.sub(r"[\s\-]", "", bank_account_number or "")
    if not re.fullmatch(r"\d{4,17}", number):
        errors["bank_account_number"] = FieldError(
            "invalid_bank_account_number", "A bank account number has 4 to 17 digits."
        )
    if bank_account_type not in BankAccountType.values:
        errors["bank_account_type"] = FieldError("invalid_choice", "Choose checking or savings.")
    if len(nickname or "") > 50:
        errors["nickname"] = FieldError("max_length", "At most 50 characters.")
    elif has_invisible_characters(nickname or ""):
        errors["nickname"] = FieldError("invalid_characters", INVISIBLE_MESSAGE)
    if errors:
        raise ServiceError("invalid", f"Please correct these fields: {', '.join(errors)}.", errors)
    ledger.lock_account(account)
    if account.bank_links.filter(active=True).count() >= MAX_BANK_LINKS:
        raise ServiceError(
            "too_many_bank_links",
            f"An account can have at most {MAX_BANK_LINKS} linked banks; remove one first.",
            status=409,
        )
    try:
        with transaction.atomic():
            link = BankLink.objects.create(
                account=account,
                created_by=user,
                routing_number=routing,
                bank_account_number=number,
                bank_account_last4=number[-4:],
                bank_account_fingerprint=fingerprint(number),
                bank_account_type=bank_account_type,
                nickname=(nickname or "").strip(),
            )
    except IntegrityError:
        raise ServiceError(
            "bank_link_exists", "This bank account is already linked.", status=409
        ) from None
    activity.record(user, activity.Kind.BANK_LINKED, _bank_words(link))
    return link


def _bank_words(link: BankLink) -> str:
    kind = link.get_bank_account_type_display()
    return f"{link.account.account_number}: {kind} ••{link.bank_account_last4}"


@transaction.atomic
def remove_bank_link(link: BankLink, user: User) -> BankLink:
    _require_holder(link.account, user)
    link = BankLink.objects.select_for_update().get(pk=link.pk)
    if link.transfers.filter(
        status__in=[TransferStatus.REQUESTED, TransferStatus.PENDING]
    ).exists():
        raise ServiceError(
            "transfers_in_progress",
            "This bank has transfers in progress; wait for them to finish.",
            status=409,
        )
    link.active = False
    link.removed_at = timezone.now()
    link.save(update_fields=["active", "removed_at"])
    activity.record(user, activity.Kind.BANK_UNLINKED, _bank_words(link))
    return link


# --- Transfers -------------------------------------------------------------------------------


def is_new_bank_link(link: BankLink) -> bool:
    """Linked within NEW_BANK_LINK_DAYS: money withdrawn to it needs a step-up first (a
    thief with a session would link their own bank and withdraw to it)."""
    return link.created_at > timezone.now() - timedelta(days=settings.NEW_BANK_LINK_DAYS)


def withdrawal_needs_step_up(account: Account, direction: str, bank_link_id) -> bool:
    if direction != TransferDirection.WITHDRAWAL:
        return False
    link = BankLink.objects.filter(pk=_as_int(bank_link_id), account=account, active=True).first()
    return link is not None and is_new_bank_link(link)


@transaction.atomic
def request_transfer(
    account: Account,
    user: User,
    *,
    direction: str,
    amount,
    bank_link_id,
    client_transfer_id: str | None = None,
) -> tuple[Transfer, bool]:
    """Ask for a deposit or a withdrawal; returns (transfer, created). With a
    client_transfer_id, a retried request returns the first transfer (created False);
    the same id with other content is refused."""
    _require_holder(account, user)
    if direction not in TransferDirection.values:
        raise _invalid("direction", "invalid_choice", "Choose deposit or withdrawal.")
    value = clean_amount(amount)
    link = BankLink.objects.filter(pk=_as_int(bank_link_id), account=account, active=True).first()
    if link is None:
        raise _invalid("bank_link", "not_found", "Choose one of this account's linked banks.")
    account = ledger.lock_account(account)
    _require_active(account)

    if client_transfer_id:
        existing = account.transfers.filter(client_transfer_id=client_transfer_id).first()
        if existing:
            if (existing.direction, existing.amount, existing.bank_link_id) == (
                direction,
                value,
                link.pk,
            ):
                return existing, False
            raise _invalid(
                "client_transfer_id",
                "client_transfer_id_conflict",
                "This client_transfer_id was used for a different transfer.",
                status=409,
            )

    if direction == TransferDirection.DEPOSIT:
        today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        deposited = account.transfers.filter(
            direction=TransferDirection.DEPOSIT,
            requested_at__gte=today_start,
            status__in=[TransferStatus.REQUESTED, TransferStatus.PENDING, TransferStatus.COMPLETED],
        ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
        limit = settings.DAILY_DEPOSIT_LIMIT
        if deposited + value > limit:
            raise _invalid(
                "amount",
                "deposit_limit_exceeded",
                f"Deposits are limited to ${limit:,.2f} a day; you can deposit "
                f"${max(limit - deposited, 0):,.2f} more today.",
            )
    else:
        available = ledger.balances(account).withdrawable
        if value > available:
            raise _invalid(
                "amount",
                "insufficient_funds",
                f"You can withdraw at most ${available:,.2f} (settled cash less "
                "holds for open orders and withdrawals).",
            )

    transfer = Transfer.objects.create(
        account=account,
        bank_link=link,
        direction=direction,
        amount=value,
        client_transfer_id=client_transfer_id or None,
        requested_by=user,
    )
    if direction == TransferDirection.WITHDRAWAL:
        ledger.place_hold(account, value, Hold.Reason.WITHDRAWAL, f"transfer:{transfer.pk}")
    _transfer_event(transfer)
    _schedule_simulator()
    return transfer, True


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _locked(transfer: Transfer, allowed: set[str]) -> Transfer:
    ledger.lock_account(transfer.account)
    transfer = Transfer.objects.select_for_update().select_related("bank_link").get(pk=transfer.pk)
    if transfer.status not in allowed:
        raise ServiceError(
            "invalid_status",
            f"This transfer is {transfer.get_status_display().lower()}: it cannot be changed now.",
            status=409,
        )
    return transfer


def _release_withdrawal_hold(transfer: Transfer) -> None:
    hold = Hold.objects.filter(
        reason=Hold.Reason.WITHDRAWAL, reference=f"transfer:{transfer.pk}"
    ).first()
    if hold:
        ledger.release_hold(hold)


@transaction.atomic
def cancel_transfer(transfer: Transfer, user: User) -> Transfer:
    """The customer cancels a transfer not yet sent to the bank."""
    _require_holder(transfer.account, user)
    transfer = _locked(transfer, {TransferStatus.REQUESTED})
    transfer.status = TransferStatus.CANCELED
    transfer.decided_by = user
    transfer.save(update_fields=["status", "decided_by"])
    _release_withdrawal_hold(transfer)
    _transfer_event(transfer)
    return transfer


@transaction.atomic
def submit_transfer(transfer: Transfer) -> Transfer:
    """Sent to the ACH network: from now on only the bank's answer changes it."""
    transfer = _locked(transfer, {TransferStatus.REQUESTED})
    transfer.status = TransferStatus.PENDING
    transfer.submitted_at = timezone.now()
    transfer.save(update_fields=["status", "submitted_at"])
    _transfer_event(transfer)
    return transfer


@transaction.atomic
def complete_transfer(transfer: Transfer, staff: User | None = None) -> Transfer:
    """The money moved: post it to the ledger and release the withdrawal's hold."""
    transfer = _locked(transfer, {TransferStatus.REQUESTED, TransferStatus.PENDING})
    link = transfer.bank_link
    cash = ledger.customer_cash(transfer.account)
    bank = ledger.firm_ledger(LedgerAccountKind.FIRM_BANK)
    if transfer.direction == TransferDirection.DEPOSIT:
        kind, sign, words = JournalEntryKind.DEPOSIT, 1, f"ACH deposit from {link}"
    else:
        kind, sign, words = JournalEntryKind.WITHDRAWAL, -1, f"ACH withdrawal to {link}"
    entry = ledger.post_journal_entry(
        kind,
        words,
        [ledger.Line(cash, sign * transfer.amount), ledger.Line(bank, -sign * transfer.amount)],
        account=transfer.account,
        created_by=staff,
        idempotency_key=f"transfer:{transfer.pk}",
    )
    transfer.status = TransferStatus.COMPLETED
    transfer.completed_at = timezone.now()
    transfer.submitted_at = transfer.submitted_at or transfer.completed_at
    transfer.journal_entry = entry
    transfer.decided_by = staff
    transfer.save(
        update_fields=["status", "completed_at", "submitted_at", "journal_entry", "decided_by"]
    )
    _release_withdrawal_hold(transfer)
    _transfer_event(transfer)
    return transfer


@transaction.atomic
def reject_transfer(transfer: Transfer, staff: User | None, reason: str) -> Transfer:
    if not reason.strip():
        raise _invalid("reason", "required", "Give the reason for the rejection.")
    transfer = _locked(transfer, {TransferStatus.REQUESTED, TransferStatus.PENDING})
    transfer.status = TransferStatus.REJECTED
    transfer.reason = reason.strip()[:300]
    transfer.decided_by = staff
    transfer.save(update_fields=["status", "reason", "decided_by"])
    _release_withdrawal_hold(transfer)
    _transfer_event(transfer)
    return transfer


# --- The simulated ACH processor (embedded run) ------------------------------------------------


def _schedule_simulator() -> None:
    if settings.ACH_SIMULATOR:
        # By name: the task module imports this one.
        task = current_app.signature("accounts.tasks.run_ach_simulator")
        delay = settings.ACH_SIMULATED_SETTLEMENT_SECONDS
        transaction.on_commit(lambda: task.apply_async(countdown=delay + 1))


def run_ach_simulator(now=None) -> dict[str, int]:
    """Send requested transfers to the (simulated) bank and complete those pending for
    longer than ACH_SIMULATED_SETTLEMENT_SECONDS. Safe to run any number of times."""
    now = now or timezone.now()
    delay = timedelta(seconds=settings.ACH_SIMULATED_SETTLEMENT_SECONDS)
    done = {"submitted": 0, "completed": 0}
    for transfer in Transfer.objects.filter(status=TransferStatus.REQUESTED):
        try:
            submit_transfer(transfer)
            done["submitted"] += 1
        except ServiceError:
            continue  # canceled or decided meanwhile
    for transfer in Transfer.objects.filter(
        status=TransferStatus.PENDING, submitted_at__lte=now - delay
    ):
        try:
            complete_transfer(transfer)
            done["completed"] += 1
        except ServiceError:
            continue
    return done
