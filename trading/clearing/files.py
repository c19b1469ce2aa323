"""The clearing file format (docs/clearing.md): CSV with a header, detail records and a
trailer carrying the record count and control totals; written atomically, read and
checked whole. Shared by the portal and the clearing-firm simulator."""

import csv
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils import timezone

FORMAT_VERSION = "1"
CENT = Decimal("0.01")


class FileRejected(Exception):
    """A file that breaks the format: rejected whole, with the line (1-based) and why."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


# --- Field kinds: (parse, write) --------------------------------------------------------------


def _parse_date(text: str) -> date:
    if len(text) != 8 or not text.isdigit():
        raise ValueError("a date is YYYYMMDD")
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _decimal(places: int) -> Callable[[str], Decimal]:
    quantum = Decimal(1).scaleb(-places)

    def parse(text: str) -> Decimal:
        if not text or "e" in text.lower() or text.strip() != text:
            raise ValueError(f"a decimal with at most {places} places")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"a decimal with at most {places} places") from None
        if not value.is_finite() or value != value.quantize(quantum):
            raise ValueError(f"a decimal with at most {places} places")
        return value.quantize(quantum)

    return parse


def _parse_int(text: str) -> int:
    if not text.lstrip("-").isdigit() or len(text) > 15:
        raise ValueError("a whole number")
    return int(text)


def _parse_text(text: str) -> str:
    if any(ord(ch) < 32 for ch in text):
        raise ValueError("control characters")
    return text


def _optional(parse: Callable[[str], object]) -> Callable[[str], object]:
    def parse_optional(text: str):
        return None if text == "" else parse(text)

    return parse_optional


def _required(parse: Callable[[str], object]) -> Callable[[str], object]:
    def parse_required(text: str):
        if text == "":
            raise ValueError("required")
        return parse(text)

    return parse_required


TEXT = _parse_text
REQ = _required(_parse_text)
DATE = _required(_parse_date)
INT = _required(_parse_int)
MONEY = _decimal(2)
PRICE = _decimal(4)
RATE = _optional(_decimal(6))
OPT_INT = _optional(_parse_int)


def write_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%Y%m%d}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def hash_total(account_numbers: Iterable[str]) -> int:
    """The sum of the account numbers' digits as integers (RT12345674 -> 12345674)."""
    return sum(int("".join(ch for ch in n if ch.isdigit()) or 0) for n in account_numbers)


# --- File types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSpec:
    fields: Sequence[tuple[str, Callable[[str], object]]]  # after the record type "D"
    key: Callable[[dict], object] | None  # what no two records may share
    totals: Callable[[list[dict]], list[str]]
    choices: dict[str, set[str]]
    # Fields added at the end of the format after files were first exchanged: a record
    # written before them may leave them out (read as empty).
    added_fields: int = 0


def _sum(name: str, places: int | None = None):
    def total(records: list[dict]) -> str:
        value = sum((r[name] or 0 for r in records), Decimal(0) if places else 0)
        return write_value(value.quantize(Decimal(1).scaleb(-places)) if places else value)

    return total


def _count(name: str, value: str):
    return lambda records: str(sum(1 for r in records if r[name] == value))


def _hash(records: list[dict]) -> str:
    return str(hash_total(r["account_number"] for r in records))


def _totals(*parts):
    return lambda records: [part(records) for part in parts]


SPECS: dict[str, FileSpec] = {
    "TRADES": FileSpec(
        fields=[
            ("action", REQ),
            ("reference", REQ),
            ("account_number", REQ),
            ("symbol", REQ),
            ("cusip", TEXT),
            ("isin", TEXT),
            ("side", REQ),
            ("qty", INT),
            ("price", PRICE),
            ("trade_date", DATE),
            ("settlement_date", DATE),
            ("principal", MONEY),
            ("commission", MONEY),
            ("fees", MONEY),
            ("net_amount", MONEY),
            ("capacity", REQ),
            ("exec_id", TEXT),
        ],
        key=lambda r: (r["action"], r["reference"]),
        totals=_totals(_sum("qty"), _sum("net_amount", 2)),
        choices={"action": {"N", "X"}, "side": {"B", "S"}, "capacity": {"A", "P"}},
    ),
    "ACCOUNTS": FileSpec(
        fields=[
            ("action", REQ),
            ("account_number", REQ),
            ("account_type", REQ),
            ("status", REQ),
            ("opened_on", DATE),
            ("given_name", TEXT),
            ("middle_name", TEXT),
            ("family_name", TEXT),
            ("date_of_birth", _optional(_parse_date)),
            ("email", TEXT),
            ("phone", TEXT),
            ("street", TEXT),
            ("street_2", TEXT),
            ("city", TEXT),
            ("state", TEXT),
            ("postal_code", TEXT),
            ("country", TEXT),
            ("citizenship", TEXT),
            ("tax_id_type", TEXT),
            ("tax_id_encrypted", TEXT),
            ("tax_id_last4", TEXT),
            ("tax_form", TEXT),
            ("treaty_country", TEXT),
        ],
        key=lambda r: r["account_number"],
        totals=_totals(_hash, _count("action", "N")),
        choices={"action": {"N", "C"}},
        added_fields=1,
    ),
    "MONEY": FileSpec(
        fields=[
            ("type", REQ),
            ("reference", REQ),
            ("account_number", REQ),
            ("direction", REQ),
            ("amount", MONEY),
            ("date", DATE),
            ("settlement_date", DATE),
            ("transfer_reference", TEXT),
            ("description", TEXT),
        ],
        key=lambda r: r["reference"],
        totals=lambda records: [
            write_value(sum((r["amount"] for r in records if r["amount"] > 0), Decimal("0.00"))),
            write_value(sum((r["amount"] for r in records if r["amount"] < 0), Decimal("0.00"))),
        ],
        choices={"type": {"ACH", "JNL"}, "direction": {"IN", "OUT"}},
    ),
    "POSITIONS": FileSpec(
        fields=[
            ("account_number", REQ),
            ("symbol", REQ),
            ("cusip", TEXT),
            ("qty", INT),
        ],
        key=lambda r: (r["account_number"], r["symbol"]),
        totals=_totals(_sum("qty"), _hash),
        choices={},
    ),
    "CASH": FileSpec(
        fields=[("account_number", REQ), ("settled_cash", MONEY)],
        key=lambda r: r["account_number"],
        totals=_totals(_sum("settled_cash", 2), _hash),
        choices={},
    ),
    "ACTIVITY": FileSpec(
        fields=[
            ("activity_type", REQ),
            ("reference", REQ),
            ("account_number", REQ),
            ("symbol", TEXT),
            ("qty", INT),
            ("net_amount", MONEY),
            ("trade_date", DATE),
            ("settlement_date", DATE),
        ],
        key=lambda r: (r["activity_type"], r["reference"], r["account_number"]),
        totals=_totals(_sum("qty"), _sum("net_amount", 2)),
        choices={
            "activity_type": {"TRD", "TRX", "ACH", "JNL", "DIV", "DIVNRA", "DIVWH", "SPLIT", "CIL"}
        },
    ),
    "CORPACT": FileSpec(
        fields=[
            ("action_id", REQ),
            ("type", REQ),
            ("symbol", REQ),
            ("cusip", TEXT),
            ("ex_date", DATE),
            ("record_date", DATE),
            ("pay_date", DATE),
            ("rate", RATE),
            ("ratio_new", OPT_INT),
            ("ratio_old", OPT_INT),
            ("cash_in_lieu_price", _optional(_decimal(4))),
        ],
        key=lambda r: r["action_id"],
        totals=_totals(_count("type", "DIV"), _count("type", "SPLIT")),
        choices={"type": {"DIV", "SPLIT"}},
        added_fields=1,
    ),
}


def file_name(sender: str, file_type: str, business_date: date, sequence: int) -> str:
    return f"{sender}_{file_type}_{business_date:%Y%m%d}_{sequence:06d}.csv"


# --- Writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    path: Path
    sha256: str
    record_count: int
    control_totals: list[str]


def render(
    file_type: str,
    sender: str,
    receiver: str,
    business_date: date,
    sequence: int,
    records: list[dict],
    created_at: datetime | None = None,
) -> tuple[bytes, list[str]]:
    spec = SPECS[file_type]
    created = (created_at or timezone.now()).astimezone(timezone.UTC)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "H",
            file_type,
            sender,
            receiver,
            f"{business_date:%Y%m%d}",
            sequence,
            created.isoformat(timespec="seconds").replace("+00:00", "Z"),
            FORMAT_VERSION,
        ]
    )
    for record in records:
        writer.writerow(["D", *(write_value(record[name]) for name, _ in spec.fields)])
    totals = spec.totals(records)
    writer.writerow(["T", len(records), *totals])
    return out.getvalue().encode(), totals


def write_atomically(directory: Path, name: str, content: bytes) -> Path:
    """Write `name` in `directory` so that a reader sees the whole file or none: a
    temporary file, fsynced, renamed over, then the folder fsynced."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    temporary = directory / f".{name}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    folder = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return final


def write_file(
    directory: Path,
    file_type: str,
    sender: str,
    receiver: str,
    business_date: date,
    sequence: int,
    records: list[dict],
) -> Written:
    content, totals = render(file_type, sender, receiver, business_date, sequence, records)
    name = file_name(sender, file_type, business_date, sequence)
    path = write_atomically(directory, name, content)
    return Written(path, hashlib.sha256(content).hexdigest(), len(records), totals)


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    file_type: str
    sender: str
    receiver: str
    business_date: date
    sequence: int
    records: list[dict]
    control_totals: list[str]
    sha256: str


def parse(content: bytes, *, sender: str, receiver: str, types: Iterable[str]) -> Parsed:
    """Check a whole file and return its records; `FileRejected` at the first error."""
    sha256 = hashlib.sha256(content).hexdigest()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise FileRejected(line, "not UTF-8 text") from None
    if not text.endswith("\n"):
        raise FileRejected(text.count("\n") + 1, "truncated: the last line has no line end")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or header[0] != "H":
        raise FileRejected(1, "the first record is not a header (H)")
    if len(header) != 8:
        raise FileRejected(1, f"a header has 8 fields, not {len(header)}")
    _, file_type, file_sender, file_receiver, day, sequence, _created, version = header
    if file_type not in set(types):
        raise FileRejected(1, f"unexpected file type {file_type!r}")
    if file_sender != sender:
        raise FileRejected(1, f"sender {file_sender!r}, expected {sender!r}")
    if file_receiver != receiver:
        raise FileRejected(1, f"receiver {file_receiver!r}, expected {receiver!r}")
    if version != FORMAT_VERSION:
        raise FileRejected(1, f"format version {version!r}, expected {FORMAT_VERSION}")
    try:
        business_date = _parse_date(day)
        number = int(sequence) if sequence.isdigit() else 0
    except ValueError:
        raise FileRejected(1, f"business date {day!r} is not YYYYMMDD") from None
    if number < 1:
        raise FileRejected(1, f"sequence {sequence!r} is not a positive number")
    spec = SPECS[file_type]
    records, seen = [], set()
    trailer, line = None, 1
    for row in reader:  # every row but the last is a detail record; the last, the trailer
        if trailer is not None:
            records.append(_record(spec, trailer, line))
            if spec.key:
                key = spec.key(records[-1])
                if key in seen:
                    raise FileRejected(line, f"duplicate record {key!r}")
                seen.add(key)
        trailer, line = row, line + 1
    if not trailer or trailer[0] != "T":
        raise FileRejected(line, "the last record is not a trailer (T): truncated?")
    rows_count = line
    expected_totals = spec.totals(records)
    if len(trailer) != 2 + len(expected_totals):
        raise FileRejected(
            rows_count, f"a trailer has {2 + len(expected_totals)} fields, not {len(trailer)}"
        )
    if trailer[1] != str(len(records)):
        raise FileRejected(
            rows_count, f"trailer record count {trailer[1]!r}, the file has {len(records)}"
        )
    for position, (given, computed) in enumerate(
        zip(trailer[2:], expected_totals, strict=True), start=1
    ):
        if not _same_total(given, computed):
            raise FileRejected(
                rows_count, f"control total {position} is {given!r}, the records give {computed}"
            )
    return Parsed(
        file_type, file_sender, file_receiver, business_date, number, records, trailer[2:], sha256
    )


def _same_total(given: str, computed: str) -> bool:
    try:
        return Decimal(given) == Decimal(computed)
    except InvalidOperation:
        return False


def _record(spec: FileSpec, row: list[str], line: int) -> dict:
    if not row or row[0] != "D":
        raise FileRejected(line, f"record type {row[0] if row else ''!r}: expected D")
    full = 1 + len(spec.fields)
    if not full - spec.added_fields <= len(row) <= full:
        raise FileRejected(line, f"a detail record has {full} fields, not {len(row)}")
    row = row + [""] * (full - len(row))
    record = {}
    for (name, parse_field), text in zip(spec.fields, row[1:], strict=True):
        try:
            record[name] = parse_field(text)
        except ValueError as error:
            raise FileRejected(line, f"{name} {text!r}: {error}") from None
        allowed = spec.choices.get(name)
        if allowed and record[name] not in allowed:
            raise FileRejected(line, f"{name} {text!r}: one of {', '.join(sorted(allowed))}")
    return record
