"""The cash ledger: posting balanced journal entries, holds, and the balances they give.

Every movement of customer money is a JournalEntry whose postings sum to zero (checked
here and, on PostgreSQL, by a deferred constraint trigger). A customer's cash is the
sum of the postings on its cash ledger account; `LedgerAccount.balance` caches that sum
and changes in the same transaction as the postings.

Balances (see README "Money"):
    cash            = sum of postings
    settled_cash    = sum of postings whose settlement date has come (trades settle T+1;
                      transfers settle when they complete)
    unsettled_cash  = cash - settled_cash (sale proceeds less purchases not settled yet)
    holds           = cash set aside for open orders and requested withdrawals
    withdrawable    = max(0, min(settled_cash, cash) - holds)
    buying power, cash account   = settled_cash + unsettled_cash - holds  (= cash - holds)
    buying power, margin account = 2 x (equity - 50% x long market value) - holds,
                                   equity = cash + long market value   (Reg T, 50% initial)
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.utils import timezone

from accounts.money.amounts import clean_amount
from accounts.money.models import (
    Hold,
    JournalEntry,
    JournalEntryKind,
    LedgerAccount,
    LedgerAccountKind,
    Posting,
)
from accounts.opening.models import Account, AccountType
from accounts.users.models import User
from rushtrade.errors import FieldError, ServiceError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
REG_T_INITIAL_MARGIN = Decimal("0.50")


class LedgerError(ValueError):
    """A journal entry that must never be posted (a bug, not a user's mistake)."""


@dataclass(frozen=True)
class Line:
    ledger_account: LedgerAccount
    amount: Decimal
    settles_on: date | None = None


@dataclass(frozen=True)
class Balances:
    cash: Decimal
    settled_cash: Decimal
    unsettled_cash: Decimal
    holds: Decimal
    withdrawable: Decimal
    buying_power: Decimal
    long_market_value: Decimal
    equity: Decimal


def customer_cash(account: Account) -> LedgerAccount:
    ledger, _ = LedgerAccount.objects.get_or_create(
        account=account, kind=LedgerAccountKind.CUSTOMER_CASH
    )
    return ledger


def firm_ledger(kind: LedgerAccountKind) -> LedgerAccount:
    ledger, _ = LedgerAccount.objects.get_or_create(account=None, kind=kind)
    return ledger


def ledger_accounts(account: Account, *firm_kinds: LedgerAccountKind) -> list[LedgerAccount]:
    """The account's cash ledger and the firm ledgers of `firm_kinds`, in that order, in
    one query (creating any that do not exist yet)."""
    wanted = [(account.pk, LedgerAccountKind.CUSTOMER_CASH)] + [(None, k) for k in firm_kinds]
    found = {
        (ledger.account_id, ledger.kind): ledger
        for ledger in LedgerAccount.objects.filter(
            Q(account=account, kind=LedgerAccountKind.CUSTOMER_CASH)
            | Q(account__isnull=True, kind__in=firm_kinds)
        )
    }
    for key in wanted:
        if key not in found:
            found[key] = (
                customer_cash(account) if key[0] else firm_ledger(LedgerAccountKind(key[1]))
            )
    return [found[key] for key in wanted]


def ledger_accounts_for(
    account_ids: Iterable[int], *firm_kinds: LedgerAccountKind
) -> dict[int, list[LedgerAccount]]:
    """`ledger_accounts` of many accounts in one query: account id -> [its cash ledger,
    the firm ledgers of `firm_kinds`] (creating any that do not exist yet)."""
    ids = set(account_ids)
    if not ids:
        return {}
    found = {
        (ledger.account_id, ledger.kind): ledger
        for ledger in LedgerAccount.objects.filter(
            Q(account_id__in=ids, kind=LedgerAccountKind.CUSTOMER_CASH)
            | Q(account__isnull=True, kind__in=firm_kinds)
        )
    }
    for kind in firm_kinds:
        if (None, kind) not in found:
            found[(None, kind)] = firm_ledger(LedgerAccountKind(kind))
    result = {}
    for pk in ids:
        cash = found.get((pk, LedgerAccountKind.CUSTOMER_CASH))
        if cash is None:
            cash, _ = LedgerAccount.objects.get_or_create(
                account_id=pk, kind=LedgerAccountKind.CUSTOMER_CASH
            )
        result[pk] = [cash] + [found[(None, kind)] for kind in firm_kinds]
    return result


def cash_postings(
    account: Account,
    kind: str | None = None,
    start: date | None = None,
    end: date | None = None,
):
    """The account's cash movements (postings to its cash ledger, with their entries),
    newest first; optionally of one entry kind and effective from `start` to `end` (the
    day each entry counts from on the books: a trade's trade date; both included)."""
    postings = Posting.objects.filter(
        ledger_account__account=account, ledger_account__kind=LedgerAccountKind.CUSTOMER_CASH
    ).select_related("entry")
    if kind:
        postings = postings.filter(entry__kind=kind)
    if start:
        postings = postings.filter(entry__effective_on__gte=start)
    if end:
        postings = postings.filter(entry__effective_on__lte=end)
    return postings.order_by("-id")


TRANSFER_KINDS = (JournalEntryKind.DEPOSIT, JournalEntryKind.WITHDRAWAL)


def trading_cash_since(account: Account, since: datetime) -> Decimal:
    """Cash that came into (+) or left (-) the account since `since` by anything but
    deposits and withdrawals (and their reversals): trades, commissions, fees, interest.
    With the change in its positions' value, it is what the account gained or lost."""
    total = (
        Posting.objects.filter(
            ledger_account__account=account,
            ledger_account__kind=LedgerAccountKind.CUSTOMER_CASH,
            entry__created_at__gte=since,
        )
        .exclude(entry__kind__in=TRANSFER_KINDS)
        .exclude(entry__reverses__kind__in=TRANSFER_KINDS)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal("0")


def lock_account(account: Account | int) -> Account:
    """Lock the account row (given or by id) for the rest of the transaction: every
    change that spends cash (holds, withdrawals, orders) takes this lock first, so two
    cannot race."""
    pk = account if isinstance(account, int) else account.pk
    return Account.objects.select_for_update().get(pk=pk)


def post_journal_entry(
    kind: JournalEntryKind,
    description: str,
    lines: Sequence[Line],
    *,
    account: Account | None = None,
    created_by: User | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
    reverses: JournalEntry | None = None,
    effective_on: date | None = None,
) -> JournalEntry:
    """Post a balanced entry; with an idempotency key, posting it again returns the
    first entry and changes nothing. `effective_on` (default: today in the firm's time
    zone) is the day it counts from, e.g. a fill's trade date."""
    if len(lines) < 2:
        raise LedgerError("A journal entry needs at least two postings.")
    for line in lines:
        if line.amount == 0 or line.amount != line.amount.quantize(CENT):
            raise LedgerError(f"Posting amounts are non-zero and in cents: {line.amount}")
    if sum(line.amount for line in lines) != 0:
        raise LedgerError("The postings of a journal entry must sum to zero.")
    today = timezone.localdate()
    entries = _deferred_entries.get()
    if entries is not None:
        return _defer_entry(
            entries,
            lines,
            today,
            kind=kind,
            description=description[:200],
            account=account,
            created_by=created_by,
            reason=reason,
            idempotency_key=idempotency_key,
            reverses=reverses,
            effective_on=effective_on or today,
        )
    try:
        with transaction.atomic():
            if idempotency_key:
                existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
                if existing:
                    return existing
            entry = JournalEntry.objects.create(
                kind=kind,
                description=description[:200],
                account=account,
                created_by=created_by,
                reason=reason,
                idempotency_key=idempotency_key,
                reverses=reverses,
                effective_on=effective_on or today,
            )
            Posting.objects.bulk_create(
                Posting(
                    entry=entry,
                    ledger_account=line.ledger_account,
                    amount=line.amount,
                    settles_on=line.settles_on or today,
                )
                for line in lines
            )
            deferred = _deferred.get()
            deltas: dict[int, Decimal] = defaultdict(Decimal) if deferred is None else deferred
            for line in lines:
                deltas[line.ledger_account.pk] += line.amount
            if deferred is None:
                _add_to_balances(deltas)
            return entry
    except IntegrityError:
        if idempotency_key:  # a concurrent post of the same entry won
            existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing:
                return existing
        raise


def _add_to_balances(deltas: dict[int, Decimal]) -> None:
    changes = sorted((pk, delta) for pk, delta in deltas.items() if delta)
    if len(changes) == 1 or connection.vendor != "postgresql":
        for pk, delta in changes:  # a fixed order: no deadlock between two entries
            LedgerAccount.objects.filter(pk=pk).update(balance=F("balance") + delta)
    elif changes:
        # One statement for many (a batch): the rows are locked in id order first, the
        # order every writer of balances takes, so two writers never wait on each other.
        table = LedgerAccount._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH locked AS MATERIALIZED (SELECT id FROM {table} WHERE id = ANY(%s) "  # noqa: S608
                "ORDER BY id FOR UPDATE) "
                f"UPDATE {table} AS l SET balance = l.balance + d.delta "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS d(id, delta) "
                "WHERE l.id = d.id AND l.id IN (SELECT id FROM locked)",
                [[pk for pk, _ in changes], [pk for pk, _ in changes], [d for _, d in changes]],
            )


_deferred: ContextVar[dict[int, Decimal] | None] = ContextVar("ledger_deferred", default=None)
_deferred_entries: ContextVar[list | None] = ContextVar("ledger_deferred_entries", default=None)


def _defer_entry(entries: list, lines: Sequence[Line], today: date, **values) -> JournalEntry:
    entry = JournalEntry(**values)
    postings = [
        Posting(
            entry=entry,
            ledger_account=line.ledger_account,
            amount=line.amount,
            settles_on=line.settles_on or today,
        )
        for line in lines
    ]
    entries.append((entry, postings))
    deferred = _deferred.get()
    deltas: dict[int, Decimal] = defaultdict(Decimal) if deferred is None else deferred
    for line in lines:
        deltas[line.ledger_account.pk] += line.amount
    if deferred is None:
        _add_to_balances(deltas)
    return entry


@contextmanager
def deferred_entries():
    """For a batch that posts many entries whose idempotency keys it knows to be new
    (the inbox applier's fast path, where the report log decides): inside the block
    `post_journal_entry` checks the entry as always but only builds it, and
    `flush_entries()` writes all of them and their postings in two statements. The
    unique key still stands behind it: a repeated key makes the flush fail (IntegrityError)
    and the caller redoes its batch without deferring. Use inside `deferred_balances`,
    and flush before the block ends (what is not flushed is not written)."""
    pending: list = []
    token = _deferred_entries.set(pending)
    try:
        yield pending
    finally:
        _deferred_entries.reset(token)


def flush_entries() -> list[JournalEntry]:
    """Write the entries deferred so far (see `deferred_entries`); returns them."""
    pending = _deferred_entries.get()
    if not pending:
        return []
    entries = JournalEntry.objects.bulk_create([entry for entry, _ in pending])
    Posting.objects.bulk_create([p for _, postings in pending for p in postings])
    pending.clear()
    return entries


@contextmanager
def deferred_balances():
    """For a batch that posts many entries in one transaction (the inbox applier): the
    cached balances take the batch's sum at the end of the block, still in the same
    transaction, instead of one UPDATE per ledger account per entry. Yields the pending
    sums; a caller that rolls back a savepoint inside restores them (`snapshot`/
    `restore`). Balances read inside the block from the cache lag until it ends."""
    pending: dict[int, Decimal] = defaultdict(Decimal)
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)
    _add_to_balances(pending)


@transaction.atomic
def reverse_entry(entry: JournalEntry, by: User | None, reason: str) -> JournalEntry:
    """Undo a posted entry with its mirror image (posted entries never change)."""
    if not reason.strip():
        raise ServiceError(
            "reason_required",
            "Give the reason for the reversal.",
            {"reason": _err("required", "A reason is required.")},
        )
    if entry.account_id is not None:
        # Under the account's lock, as every other change of its cash: an order checking
        # buying power meanwhile sees the cash before or after the reversal, not between.
        lock_account(entry.account_id)
    already = JournalEntry.objects.filter(reverses=entry).exists()
    if already or entry.kind == JournalEntryKind.REVERSAL:
        raise ServiceError(
            "already_reversed", "This entry is already reversed or is a reversal.", status=409
        )
    postings = list(entry.postings.select_related("ledger_account"))
    return post_journal_entry(
        JournalEntryKind.REVERSAL,
        f"Reversal of: {entry.description}",
        [Line(p.ledger_account, -p.amount) for p in postings],
        account=entry.account,
        created_by=by,
        reason=reason.strip(),
        reverses=entry,
        idempotency_key=f"reversal:{entry.pk}",
    )


def _err(code: str, message: str) -> FieldError:
    return FieldError(code, message)


# --- Balances --------------------------------------------------------------------------------

# Written out rather than built by the ORM each time: every order placed reads it under
# the account lock, and building its subqueries cost as much CPU as running it (issue 12).
# No cash ledger yet: cash 0, only the holds count.
_BALANCES_SQL = """
SELECT
    COALESCE((SELECT la.balance FROM {ledger} la
              WHERE la.account_id = %(account)s AND la.kind = %(kind)s), 0),
    COALESCE((SELECT SUM(p.amount) FROM {posting} p
              JOIN {ledger} la ON la.id = p.ledger_account_id
              WHERE la.account_id = %(account)s AND la.kind = %(kind)s
                AND p.settles_on > %(today)s), 0),
    COALESCE((SELECT SUM(h.amount) FROM {hold} h
              WHERE h.account_id = %(account)s AND h.released_at IS NULL), 0)
"""


def _money(value) -> Decimal:
    # SQLite returns sums of decimals as floats: back to cents through their text.
    return Decimal(str(value)).quantize(CENT)


def balances(
    account: Account, today: date | None = None, long_market_value: Decimal = ZERO
) -> Balances:
    """The account's balances in one query. `long_market_value` comes from the positions
    (the trading side), at the latest prices."""
    today = today or timezone.localdate()
    sql = _BALANCES_SQL.format(
        ledger=LedgerAccount._meta.db_table,
        posting=Posting._meta.db_table,
        hold=Hold._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "account": account.pk,
                "kind": LedgerAccountKind.CUSTOMER_CASH.value,
                "today": today.isoformat(),
            },
        )
        cash, unsettled_cash, holds = (_money(value) for value in cursor.fetchone())
    settled = cash - unsettled_cash
    withdrawable = max(ZERO, min(settled, cash) - holds)
    equity = cash + long_market_value
    if account.account_type == AccountType.INDIVIDUAL_MARGIN:
        excess = equity - REG_T_INITIAL_MARGIN * long_market_value
        buying_power = max(ZERO, (2 * excess - holds).quantize(CENT))
    else:
        buying_power = max(ZERO, settled + unsettled_cash - holds)
    return Balances(
        cash=cash,
        settled_cash=settled,
        unsettled_cash=unsettled_cash,
        holds=holds,
        withdrawable=withdrawable,
        buying_power=buying_power,
        long_market_value=long_market_value,
        equity=equity,
    )


def _no_positions(account: Account) -> Decimal:
    return ZERO


_long_market_value: Callable[[Account], Decimal] = _no_positions


def register_long_market_value(source: Callable[[Account], Decimal]) -> None:
    """Positions live on the trading side, which registers how to value them when it
    loads (`trading.apps`): the ledger never imports trading."""
    global _long_market_value
    _long_market_value = source


def account_balances(account: Account, today: date | None = None) -> Balances:
    """Balances with the account's positions valued at the latest quotes (what pages and
    the API show)."""
    return balances(account, today, long_market_value=_long_market_value(account))


def verify_balances(ledger_accounts: Iterable[LedgerAccount] | None = None) -> list[str]:
    """Every cached balance equals the sum of its postings; and all postings sum to zero.
    Returns the problems found (none when the ledger is sound)."""
    problems = []
    queryset = LedgerAccount.objects.all() if ledger_accounts is None else ledger_accounts
    # Quantized: SQLite sums decimals in floating point.
    sums = {
        pk: Decimal(total).quantize(CENT)
        for pk, total in Posting.objects.values("ledger_account")
        .annotate(total=Sum("amount"))
        .values_list("ledger_account", "total")
    }
    for ledger in queryset:
        expected = sums.get(ledger.pk, ZERO)
        if ledger.balance.quantize(CENT) != expected:
            problems.append(f"{ledger}: cached {ledger.balance} != postings {expected}")
    total = Decimal(Posting.objects.aggregate(total=Sum("amount"))["total"] or ZERO)
    if total.quantize(CENT) != 0:
        problems.append(f"all postings sum to {total}, not zero")
    return problems


# --- Holds -----------------------------------------------------------------------------------


def place_hold(
    account: Account,
    amount: Decimal,
    reason: Hold.Reason,
    reference: str,
    today: date | None = None,
) -> Hold:
    """Set cash aside; the caller holds the account lock (`lock_account`) and has
    checked the relevant balance under it."""
    if amount <= 0:
        raise LedgerError("A hold is for a positive amount.")
    return Hold.objects.create(account=account, amount=amount, reason=reason, reference=reference)


def adjust_hold(account: Account, reference: str, amount: Decimal) -> None:
    """Set an active hold to `amount` (released at zero), e.g. as an order fills. One
    statement; nothing happens if there is no active hold of that reference."""
    active = Hold.objects.filter(account=account, reference=reference, released_at__isnull=True)
    if amount <= 0:
        active.update(released_at=timezone.now())
    else:
        active.exclude(amount=amount).update(amount=amount)


def adjust_holds(amounts: dict[tuple[int, str], Decimal]) -> None:
    """`adjust_hold` of many (account id, reference) -> amount, in at most two statements
    (the holds to release, the holds to resize)."""
    if not amounts:
        return
    active = Hold.objects.filter(released_at__isnull=True)
    released = [key for key, amount in amounts.items() if amount <= 0]
    if released:
        match = Q()
        for account_id, reference in released:
            match |= Q(account_id=account_id, reference=reference)
        active.filter(match).update(released_at=timezone.now())
    resized = {key: amount for key, amount in amounts.items() if amount > 0}
    if resized:
        match, cases = Q(), []
        for (account_id, reference), amount in resized.items():
            same = Q(account_id=account_id, reference=reference)
            match |= same & ~Q(amount=amount)
            cases.append(When(same, then=Value(amount)))
        active.filter(match).update(amount=Case(*cases, default=F("amount")))


def reinstate_hold(account: Account, reference: str, amount: Decimal) -> None:
    """Hold `amount` again for a reference whose hold was released (an order a busted
    trade reopened); the caller holds the account lock."""
    updated = Hold.objects.filter(account=account, reference=reference).update(
        amount=amount, released_at=None
    )
    if not updated:
        place_hold(account, amount, Hold.Reason.ORDER, reference)


def release_hold(hold: Hold) -> bool:
    """Release a hold once; True if this call released it."""
    return bool(
        Hold.objects.filter(pk=hold.pk, released_at__isnull=True).update(released_at=timezone.now())
    )


# --- Staff entries ---------------------------------------------------------------------------

MANUAL_KINDS = {
    JournalEntryKind.ADJUSTMENT: LedgerAccountKind.ADJUSTMENTS,
    JournalEntryKind.FEE: LedgerAccountKind.FEE_REVENUE,
    JournalEntryKind.INTEREST: LedgerAccountKind.INTEREST_EXPENSE,
}


@transaction.atomic
def post_manual_entry(
    account: Account,
    kind: JournalEntryKind,
    amount: Decimal,
    description: str,
    reason: str,
    staff: User,
) -> JournalEntry:
    """A staff entry on a customer's cash: an adjustment (signed), a fee (debits the
    customer) or interest (credits it), against the firm account for its kind."""
    if kind not in MANUAL_KINDS:
        raise ServiceError(
            "invalid",
            "Choose adjustment, fee or interest.",
            {"kind": _err("invalid_choice", "Not a manual entry kind.")},
        )
    if not reason.strip():
        raise ServiceError(
            "reason_required",
            "Give the reason for this entry.",
            {"reason": _err("required", "A reason is required.")},
        )
    signed = kind == JournalEntryKind.ADJUSTMENT
    value = clean_amount(amount, allow_negative=signed)
    customer_amount = -value if kind == JournalEntryKind.FEE else value
    lock_account(account)
    return post_journal_entry(
        kind,
        description or JournalEntryKind(kind).label,
        [
            Line(customer_cash(account), customer_amount),
            Line(firm_ledger(MANUAL_KINDS[kind]), -customer_amount),
        ],
        account=account,
        created_by=staff,
        reason=reason.strip(),
    )
