"""Working a break: accept the clearing firm's figure (an adjusting entry with a reason)
or mark it explained with a note."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.money import ledger
from accounts.money.models import JournalEntryKind, LedgerAccountKind
from accounts.opening.models import Account
from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError
from trading.clearing.models import Break, BreakKind
from trading.market.models import Security
from trading.orders.adjustments import adjust_position
from trading.orders.models import PositionAdjustment

ACCEPTABLE = (BreakKind.CASH, BreakKind.POSITION)
WORKABLE = (Break.Status.OPEN, Break.Status.EXPLAINED)


def _required(name: str, message: str) -> ServiceError:
    return ServiceError(f"{name}_required", message, {name: FieldError("required", message)})


def _lock(item: Break) -> Break:
    item = Break.objects.select_for_update().get(pk=item.pk)
    if item.status not in WORKABLE:
        raise ServiceError(
            "break_closed",
            f"This break is already {item.get_status_display().lower()}.",
            status=409,
        )
    return item


@transaction.atomic
def accept_clearing_figure(item: Break, staff: User, reason: str) -> Break:
    """Bring the portal's books to the clearing firm's figure: a journal entry for a
    cash break, a position adjustment for a position break; the reason is kept."""
    if not reason.strip():
        raise _required("reason", "Give the reason for adjusting to the clearing firm's figure.")
    item = _lock(item)
    if item.kind not in ACCEPTABLE:
        raise ServiceError(
            "not_adjustable",
            "Only cash and position breaks can be adjusted to the clearing firm's figure; "
            "mark this one explained once it is worked.",
            status=409,
        )
    account = Account.objects.filter(account_number=item.account_number).first()
    if account is None:
        raise ServiceError("unknown_account", f"No account {item.account_number}.", status=409)
    difference = (item.theirs or Decimal(0)) - (item.ours or Decimal(0))
    words = f"Adjusted to the clearing firm's figure (break {item.pk})"
    if item.kind == BreakKind.CASH:
        amount = difference.quantize(Decimal("0.01"))
        if amount == 0:
            raise ServiceError("no_difference", "There is no difference to adjust.", status=409)
        ledger.lock_account(account)
        item.journal_entry = ledger.post_journal_entry(
            JournalEntryKind.ADJUSTMENT,
            words,
            [
                ledger.Line(ledger.customer_cash(account), amount),
                ledger.Line(ledger.firm_ledger(LedgerAccountKind.ADJUSTMENTS), -amount),
            ],
            account=account,
            created_by=staff,
            reason=reason.strip(),
            idempotency_key=f"clearing:break:{item.pk}",
        )
    else:
        security = Security.objects.filter(symbol=item.symbol).first()
        if security is None:
            raise ServiceError("unknown_symbol", f"No security {item.symbol}.", status=409)
        item.position_adjustment, _ = adjust_position(
            account,
            security,
            kind=PositionAdjustment.Kind.CLEARING,
            qty_change=int(difference),
            reference=f"clearing:break:{item.pk}",
            effective_on=timezone.localdate(),
            description=words,
            reason=reason.strip(),
            by=staff,
        )
    item.status = Break.Status.ACCEPTED
    item.note = reason.strip()
    item.decided_by, item.decided_at = staff, timezone.now()
    item.resolved_on = timezone.localdate()
    item.save()
    return item


@transaction.atomic
def mark_explained(item: Break, staff: User, note: str) -> Break:
    if not note.strip():
        raise _required("note", "Say what explains the break.")
    item = Break.objects.select_for_update().get(pk=item.pk)
    if item.status != Break.Status.OPEN:
        raise ServiceError(
            "break_closed", f"This break is {item.get_status_display().lower()}.", status=409
        )
    item.status = Break.Status.EXPLAINED
    item.note = note.strip()
    item.decided_by, item.decided_at = staff, timezone.now()
    item.save()
    return item
