"""Inbound files are checked whole: a wrong trailer, a truncated file, a sequence gap or
a duplicate is rejected with its line and reason and nothing of it is loaded; the same
file twice does nothing (docs/clearing.md, "Loading an inbound file")."""

import logging
from decimal import Decimal

import pytest
from django.utils import timezone

from trading.clearing import files, inbound
from trading.clearing.models import ClearingCash, ClearingFile, ClearingPosition

pytestmark = pytest.mark.django_db
D = Decimal


def positions(sequence=1, records=None, day=None):
    records = records or [
        {"account_number": "RT10000007", "symbol": "ACME", "cusip": "", "qty": 10},
        {"account_number": "RT10000015", "symbol": "MSFT", "cusip": "594918104", "qty": -3},
    ]
    content, _ = files.render(
        "POSITIONS", "CLRF", "RUSH", day or timezone.localdate(), sequence, records
    )
    return content


def load(content, name="CLRF_POSITIONS_X.csv"):
    return inbound.load_content(content, name)


def test_a_good_file_loads_once(caplog):
    first = load(positions())
    assert first.status == "loaded" and first.record_count == 2
    assert ClearingPosition.objects.filter(file=first).count() == 2
    # Another file with the sequence already loaded (other records) is refused whole.
    other = positions(
        records=[{"account_number": "RT10000007", "symbol": "IBM", "cusip": "", "qty": 1}]
    )
    again = load(other, "CLRF_POSITIONS_Z.csv")
    assert again.status == "rejected" and "loaded already" in again.reason
    assert ClearingPosition.objects.count() == 2


def test_the_same_bytes_twice_do_nothing():
    content = positions()
    first = load(content)
    second = load(content)
    assert second.pk == first.pk
    assert ClearingFile.objects.count() == 1
    assert ClearingPosition.objects.count() == 2


def rejected(content, caplog, name="CLRF_POSITIONS_X.csv"):
    caplog.set_level(logging.WARNING, logger="trading.clearing.inbound")
    row = load(content, name)
    assert row.status == "rejected"
    assert ClearingPosition.objects.count() == 0 and ClearingCash.objects.count() == 0
    assert any(name in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records), (
        "a rejected file is a WARNING naming it"
    )
    return row


def test_wrong_trailer_total_is_rejected_whole(caplog):
    content = positions().replace(b"\nT,2,7,", b"\nT,2,8,")
    row = rejected(content, caplog)
    assert row.line == 4 and "control total 1" in row.reason


def test_wrong_record_count_is_rejected(caplog):
    content = positions().replace(b"\nT,2,", b"\nT,3,")
    row = rejected(content, caplog)
    assert row.line == 4 and "record count" in row.reason


def test_truncated_file_is_rejected(caplog):
    content = positions()
    cut = content[: content.rindex(b"\nT,") + 1]  # the trailer lost
    row = rejected(cut, caplog)
    assert "trailer" in row.reason
    mid_line = content[:-5]
    row = rejected(mid_line, caplog, name="CLRF_POSITIONS_Y.csv")
    assert "truncated" in row.reason


def test_a_bad_line_names_its_line(caplog):
    content = positions().replace(b"ACME,,10", b"ACME,,ten")
    row = rejected(content, caplog)
    assert row.line == 2 and "qty 'ten'" in row.reason


def test_a_duplicate_record_is_rejected(caplog):
    record = {"account_number": "RT10000007", "symbol": "ACME", "cusip": "", "qty": 10}
    row = rejected(positions(records=[record, record]), caplog)
    assert row.line == 3 and "duplicate" in row.reason


def test_a_sequence_gap_is_rejected_and_the_next_one_loads(caplog):
    assert load(positions(sequence=1)).status == "loaded"
    gap = load(positions(sequence=3), "CLRF_POSITIONS_3.csv")
    assert gap.status == "rejected" and "gap" in gap.reason and gap.line == 1
    assert ClearingPosition.objects.exclude(file__sequence=1).count() == 0
    assert load(positions(sequence=2), "CLRF_POSITIONS_2.csv").status == "loaded"


def test_wrong_sender_or_type_is_rejected(caplog):
    content, _ = files.render("POSITIONS", "OTHER", "RUSH", timezone.localdate(), 1, [])
    assert "sender" in rejected(content, caplog).reason
    content, _ = files.render("TRADES", "CLRF", "RUSH", timezone.localdate(), 1, [])
    assert "file type" in rejected(content, caplog, "CLRF_TRADES_X.csv").reason


def test_nothing_of_a_file_loads_when_a_late_line_is_bad(caplog):
    records = [
        {"account_number": f"RT{1000000 + i}0", "symbol": "ACME", "cusip": "", "qty": i + 1}
        for i in range(500)
    ]
    content = positions(records=records).replace(b"RT10004990,ACME,,500", b"RT10004990,ACME,,5x0")
    row = rejected(content, caplog)
    assert row.line == 501
