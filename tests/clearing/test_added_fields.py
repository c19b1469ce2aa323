"""Fields added at the end of a file format after files were exchanged (ACCOUNTS' treaty
country, CORPACT's cash in lieu price): records written before them still load, and the
new field does not send every account again (docs/clearing.md, "Fields added later")."""

import hashlib
import json

import pytest
from django.utils import timezone

from accounts.opening.models import AccountHolder
from trading.clearing import cycle, files, outbound
from trading.clearing.models import SentAccount

from .conftest import open_account

pytestmark = pytest.mark.django_db


def test_a_record_without_the_added_field_still_loads():
    day = timezone.localdate()
    record = {
        "action_id": "SPLIT-ACME-1",
        "type": "SPLIT",
        "symbol": "ACME",
        "cusip": "",
        "ex_date": day,
        "record_date": day,
        "pay_date": day,
        "rate": None,
        "ratio_new": 3,
        "ratio_old": 2,
        "cash_in_lieu_price": None,
    }
    content, _ = files.render("CORPACT", "CLRF", "RUSH", day, 1, [record])
    lines = content.decode().splitlines()
    older = "\n".join([lines[0], lines[1].removesuffix(","), lines[2]]) + "\n"
    parsed = files.parse(older.encode(), sender="CLRF", receiver="RUSH", types=["CORPACT"])
    assert parsed.records[0]["cash_in_lieu_price"] is None
    assert parsed.records[0]["ratio_new"] == 3

    shorter = "\n".join([lines[0], lines[1].rsplit(",", 2)[0], lines[2]]) + "\n"
    with pytest.raises(files.FileRejected, match="fields"):
        files.parse(shorter.encode(), sender="CLRF", receiver="RUSH", types=["CORPACT"])


def test_an_account_without_a_treaty_country_keeps_its_hash():
    account = open_account()
    cycle.evening(timezone.localdate())
    user = AccountHolder.objects.get(account=account).user
    record, fingerprint = outbound._account(account, user)
    assert record["treaty_country"] == ""
    del record["treaty_country"]  # the record as it was before the field was added
    before = hashlib.sha256(
        json.dumps([record, fingerprint], sort_keys=True, default=str).encode()
    ).hexdigest()
    assert SentAccount.objects.get(account=account).record_hash == before
