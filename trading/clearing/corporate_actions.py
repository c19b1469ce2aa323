"""Applying the clearing firm's corporate actions when they fall due: cash dividends
credited on the pay date, splits applied to positions on the ex-date (docs/clearing.md)."""

import logging
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pandas as pd
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.money import ledger, withholding
from accounts.money.models import JournalEntryKind, LedgerAccountKind
from accounts.opening.models import Account
from trading.clearing.models import CorporateAction
from trading.clearing.reconcile import positions_as_of
from trading.market.calendar import nyse
from trading.orders.adjustments import adjust_position
from trading.orders.models import Position, PositionAdjustment

log = logging.getLogger(__name__)

CENT = Decimal("0.01")


def record_holders_day(ex_date: date) -> date:
    """The close whose holders are entitled: the session before the ex-date (T+1 makes
    the record date the ex-date)."""
    calendar = nyse()
    stamp = pd.Timestamp(ex_date)
    if not calendar.is_session(stamp):
        stamp = calendar.date_to_session(stamp, "next")
    return calendar.previous_session(stamp).date()


def apply_due(today: date | None = None) -> list[CorporateAction]:
    """Apply every action due by `today` and not applied yet; each in its own
    transaction, once."""
    today = today or timezone.localdate()
    due = CorporateAction.objects.filter(applied_at__isnull=True).filter(
        Q(kind=CorporateAction.Kind.DIVIDEND, pay_date__lte=today)
        | Q(kind=CorporateAction.Kind.SPLIT, ex_date__lte=today)
    )
    applied = []
    for action in due.order_by("ex_date", "id"):
        if action.security_id is None:
            log.warning(
                "Clearing: corporate action %s names %s, which is not in the security master: "
                "not applied",
                action.action_id,
                action.symbol,
            )
            continue
        if action.due_on < today:
            log.warning(
                "Clearing: corporate action %s applied late (due %s)",
                action.action_id,
                action.due_on,
            )
        applied.append(apply_action(action))
    return applied


@transaction.atomic
def apply_action(action: CorporateAction) -> CorporateAction:
    action = CorporateAction.objects.select_for_update().get(pk=action.pk)
    if action.applied_at:
        return action
    if action.kind == CorporateAction.Kind.DIVIDEND:
        count = _pay_dividend(action)
    else:
        count = _split(action)
    action.applied_at = timezone.now()
    action.accounts_applied = count
    action.save(update_fields=["applied_at", "accounts_applied"])
    log.info("Clearing: applied %s to %d accounts", action, count)
    return action


def _pay_dividend(action: CorporateAction) -> int:
    """Credit each holder of record; withhold US tax from a non-resident alien's
    dividend (or backup withholding where no W-9 is on file) as a second entry, so the
    gross dividend and the tax each show (docs/clearing.md, "Dividend withholding")."""
    holders = positions_as_of(record_holders_day(action.ex_date), action.security)
    accounts = Account.objects.select_related("application").in_bulk(
        [account_id for account_id, qty in holders if qty > 0]
    )
    clearing = ledger.firm_ledger(LedgerAccountKind.CLEARING)
    paid = 0
    with ledger.deferred_balances():
        for account_id, qty in holders:
            if qty <= 0:
                continue  # a short position owes the dividend: not carried here
            amount = (action.rate * qty).quantize(CENT, ROUND_HALF_UP)
            if amount <= 0:
                continue
            account = accounts[account_id]
            ledger.post_journal_entry(
                JournalEntryKind.DIVIDEND,
                f"Dividend {action.symbol}: {qty} shares @ ${action.rate.normalize():f}",
                [
                    ledger.Line(ledger.customer_cash(account), amount, action.pay_date),
                    ledger.Line(clearing, -amount, action.pay_date),
                ],
                account=account,
                idempotency_key=f"clearing:div:{action.pk}:{account_id}",
                effective_on=action.pay_date,
            )
            _withhold(action, account, amount)
            paid += 1
    return paid


def _withhold(action: CorporateAction, account: Account, dividend: Decimal) -> None:
    tax_form, treaty_country = withholding.tax_status(account)
    rule, unknown_treaty = withholding.dividend_withholding(tax_form, treaty_country)
    if unknown_treaty:
        log.warning(
            "Clearing: account %s claims the %s treaty, which has no dividend rate in the "
            "table: %s withheld at 30%%",
            account.account_number,
            treaty_country,
            action.action_id,
        )
    if not rule.withheld:
        return
    tax = (dividend * rule.rate).quantize(CENT, ROUND_HALF_UP)
    if tax <= 0:
        return
    ledger.post_journal_entry(
        rule.kind,
        f"Tax withheld on {action.symbol} dividend: {rule.rate * 100:.0f}% ({rule.basis})",
        [
            ledger.Line(ledger.customer_cash(account), -tax, action.pay_date),
            ledger.Line(ledger.firm_ledger(LedgerAccountKind.TAX_WITHHELD), tax, action.pay_date),
        ],
        account=account,
        idempotency_key=f"clearing:divwh:{action.pk}:{account.pk}",
        effective_on=action.pay_date,
    )


def _split(action: CorporateAction) -> int:
    """Multiply each position by new/old (a reverse split too) on the ex-date; a fraction
    of a share it leaves is paid in cash at the clearing firm's price (settling on the
    pay date), or, with no price reported, dropped with a WARNING."""
    ratio = Fraction(action.ratio_new, action.ratio_old)
    price = action.cash_in_lieu_price
    count = 0
    positions = Position.objects.filter(security=action.security).exclude(qty=0)
    for position in positions.select_related("account", "security").order_by("account_id"):
        adjustment, created = adjust_position(
            position.account,
            position.security,
            kind=PositionAdjustment.Kind.SPLIT,
            ratio=ratio,
            cash_in_lieu_price=price,
            reference=f"split:{action.pk}:{position.account_id}",
            effective_on=action.ex_date,
            description=f"{action.symbol} {action.ratio_new}-for-{action.ratio_old} split",
        )
        count += 1
        if not (created and adjustment.fraction):
            continue
        account = position.account
        if adjustment.cash_in_lieu is None or adjustment.cash_in_lieu <= 0:
            log.warning(
                "Clearing: split %s left account %s %s of a %s share: dropped, the clearing "
                "firm reported no cash in lieu price",
                action.action_id,
                account.account_number,
                adjustment.fraction.normalize(),
                action.symbol,
            )
            continue
        cash = adjustment.cash_in_lieu
        ledger.post_journal_entry(
            JournalEntryKind.CASH_IN_LIEU,
            f"Cash in lieu of {adjustment.fraction.normalize():f} {action.symbol} share "
            f"@ ${price.normalize():f} ({action.ratio_new}-for-{action.ratio_old} split)",
            [
                ledger.Line(ledger.customer_cash(account), cash, action.pay_date),
                ledger.Line(ledger.firm_ledger(LedgerAccountKind.CLEARING), -cash, action.pay_date),
            ],
            account=account,
            idempotency_key=f"clearing:cil:{action.pk}:{account.pk}",
            effective_on=action.ex_date,
        )
    return count
