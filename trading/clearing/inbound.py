"""Loading the clearing firm's morning files: each checked whole (header, every line,
trailer totals, sequence) and loaded in one transaction, or rejected with the line and
the reason; the same file twice does nothing (docs/clearing.md)."""

import logging
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from trading.clearing import files
from trading.clearing.files import FileRejected
from trading.clearing.models import (
    INBOUND_TYPES,
    ClearingActivity,
    ClearingCash,
    ClearingFile,
    ClearingPosition,
    CorporateAction,
    FileType,
)
from trading.market.models import Security

log = logging.getLogger(__name__)

IN = ClearingFile.Direction.INBOUND
# Loaded in this order within a date: corporate actions before what they affect.
ORDER = {
    t: i
    for i, t in enumerate((FileType.CORPACT, FileType.POSITIONS, FileType.CASH, FileType.ACTIVITY))
}


def load_inbox(directory: Path | None = None) -> list[ClearingFile]:
    """Load every file in the inbox not loaded yet, by date, type and sequence."""
    folder = Path(directory or settings.CLEARING_INBOX_DIR)
    if not folder.exists():
        return []

    def order(path: Path):
        parts = path.stem.split("_")
        kind = parts[1] if len(parts) == 4 else ""
        return (parts[2] if len(parts) == 4 else "", ORDER.get(kind, 9), parts[-1], path.name)

    return [load_file(path) for path in sorted(folder.glob("*.csv"), key=order)]


def load_file(path: Path) -> ClearingFile:
    return load_content(path.read_bytes(), path.name)


def _known(row: ClearingFile | None) -> ClearingFile | None:
    if row is not None:
        row.seen_before = True
    return row


def load_content(content: bytes, name: str) -> ClearingFile:
    """Load one file, or reject it whole; a file loaded (or rejected) before: its row
    (marked `seen_before`), nothing done."""
    parsed = None
    try:
        parsed = files.parse(
            content,
            sender=settings.CLEARING_FIRM_ID,
            receiver=settings.CLEARING_CORRESPONDENT_ID,
            types=INBOUND_TYPES,
        )
    except FileRejected as error:
        sha256 = files.hashlib.sha256(content).hexdigest()
        known = _known(ClearingFile.objects.filter(direction=IN, sha256=sha256).first())
        return known or _reject(name, sha256, _type_from_name(name), None, error)
    known = _known(ClearingFile.objects.filter(direction=IN, sha256=parsed.sha256).first())
    if known:
        return known
    try:
        with transaction.atomic():
            last = (
                ClearingFile.objects.select_for_update()
                .filter(direction=IN, file_type=parsed.file_type)
                .exclude(status=ClearingFile.Status.REJECTED)
                .aggregate(last=Max("sequence"))["last"]
                or 0
            )
            if parsed.sequence <= last:
                raise FileRejected(
                    1,
                    f"sequence {parsed.sequence} was loaded already (a duplicate of another file)",
                )
            if parsed.sequence != last + 1:
                raise FileRejected(
                    1, f"sequence gap: {parsed.sequence} after {last} (expected {last + 1})"
                )
            row = ClearingFile.objects.create(
                direction=IN,
                file_type=parsed.file_type,
                business_date=parsed.business_date,
                sequence=parsed.sequence,
                name=name[:200],
                sha256=parsed.sha256,
                status=ClearingFile.Status.LOADED,
                record_count=len(parsed.records),
                control_totals=parsed.control_totals,
            )
            LOADERS[parsed.file_type](row, parsed.records)
    except FileRejected as error:
        return _reject(name, parsed.sha256, parsed.file_type, parsed, error)
    except IntegrityError:  # a concurrent load of the same file (or sequence) won
        known = _known(ClearingFile.objects.filter(direction=IN, sha256=parsed.sha256).first())
        if known:
            return known
        raise
    log.info("Clearing: loaded %s (%d records)", name, len(parsed.records))
    return row


def _type_from_name(name: str) -> str:
    parts = name.split("_")
    return parts[1][:10] if len(parts) == 4 and parts[1] in INBOUND_TYPES else ""


def _reject(name, sha256, file_type, parsed, error: FileRejected) -> ClearingFile:
    log.warning("Clearing: rejected inbound file %s at line %d: %s", name, error.line, error.reason)
    return ClearingFile.objects.create(
        direction=IN,
        file_type=file_type,
        business_date=parsed.business_date if parsed else None,
        sequence=parsed.sequence if parsed else None,
        name=name[:200],
        sha256=sha256,
        status=ClearingFile.Status.REJECTED,
        line=error.line,
        reason=error.reason[:500],
    )


def _copy(model, columns: list[str], rows) -> None:
    """Insert many rows: COPY on PostgreSQL, batched INSERTs elsewhere."""
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    fields = [model._meta.get_field(c.removesuffix("_id")).attname for c in columns]
    model.objects.bulk_create(
        (model(**dict(zip(fields, row, strict=True))) for row in rows), batch_size=2000
    )


def _positions(row: ClearingFile, records: list[dict]) -> None:
    _copy(
        ClearingPosition,
        ["file_id", "account_number", "symbol", "cusip", "qty"],
        ((row.pk, r["account_number"], r["symbol"], r["cusip"], r["qty"]) for r in records),
    )


def _cash(row: ClearingFile, records: list[dict]) -> None:
    _copy(
        ClearingCash,
        ["file_id", "account_number", "settled_cash"],
        ((row.pk, r["account_number"], r["settled_cash"]) for r in records),
    )


def _activity(row: ClearingFile, records: list[dict]) -> None:
    _copy(
        ClearingActivity,
        [
            "file_id",
            "activity_type",
            "reference",
            "account_number",
            "symbol",
            "qty",
            "net_amount",
            "trade_date",
            "settlement_date",
        ],
        (
            (
                row.pk,
                r["activity_type"],
                r["reference"],
                r["account_number"],
                r["symbol"],
                r["qty"],
                r["net_amount"],
                r["trade_date"],
                r["settlement_date"],
            )
            for r in records
        ),
    )


def _corporate_actions(row: ClearingFile, records: list[dict]) -> None:
    securities = dict(
        Security.objects.filter(symbol__in={r["symbol"] for r in records}).values_list(
            "symbol", "pk"
        )
    )
    for line, r in enumerate(records, start=2):
        if r["type"] == "DIV" and not (r["rate"] and r["rate"] > 0):
            raise FileRejected(line, "a dividend needs a rate above zero")
        if r["type"] == "SPLIT" and not (
            r["ratio_new"] and r["ratio_old"] and r["ratio_new"] > 0 and r["ratio_old"] > 0
        ):
            raise FileRejected(line, "a split needs its ratio (new and old, above zero)")
        terms = {
            "kind": r["type"],
            "symbol": r["symbol"],
            "security_id": securities.get(r["symbol"]),
            "cusip": r["cusip"],
            "ex_date": r["ex_date"],
            "record_date": r["record_date"],
            "pay_date": r["pay_date"],
            "rate": r["rate"] if r["type"] == "DIV" else None,
            "ratio_new": r["ratio_new"] if r["type"] == "SPLIT" else None,
            "ratio_old": r["ratio_old"] if r["type"] == "SPLIT" else None,
            "cash_in_lieu_price": r["cash_in_lieu_price"] if r["type"] == "SPLIT" else None,
        }
        action = CorporateAction.objects.filter(action_id=r["action_id"]).first()
        if action is None:
            CorporateAction.objects.create(action_id=r["action_id"], file=row, **terms)
            continue
        changed = {k: v for k, v in terms.items() if getattr(action, k) != v}
        if changed and action.applied_at:
            log.warning(
                "Clearing: corporate action %s changed after it was applied (%s): not changed",
                action.action_id,
                ", ".join(sorted(changed)),
            )
        elif changed:
            CorporateAction.objects.filter(pk=action.pk).update(file=row, **changed)


LOADERS = {
    FileType.POSITIONS: _positions,
    FileType.CASH: _cash,
    FileType.ACTIVITY: _activity,
    FileType.CORPACT: _corporate_actions,
}
