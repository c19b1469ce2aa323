"""Names by Unicode category: letters and marks of every script, spaces, hyphens,
apostrophes and periods; bidi, zero-width and control characters refused."""

import pytest
from rest_framework.test import APIClient

from accounts.opening import rules
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD = [
    "Zoë",
    "José María",
    "O'Brien",
    "Anne-Marie",
    "J. R.",
    "Nguyễn Thị Minh Khai",  # combining marks when decomposed
    "Nguye\u0302\u0303n",  # decomposed: letters and combining marks
    "Дмитрий",
    "محمد",
    "李小龍",
    "Ólafur Ragnar Grímsson",
    "D’Angelo",
]
BAD = [
    ("Smith😀", "invalid_name"),
    ("R2D2", "invalid_name"),
    ("Eve\u202eevilname", "invalid_characters"),  # right-to-left override
    ("Jo\u200bhn", "invalid_characters"),  # zero-width space
    ("Jo\u200dhn", "invalid_characters"),  # zero-width joiner
    ("Ann\x00a", "invalid_characters"),
    ("Tab\tName", "invalid_characters"),
    ("<script>", "invalid_name"),
    ("---", "invalid_name"),  # no letter at all
    ("Bob_Smith", "invalid_name"),
]


@pytest.mark.parametrize("name", GOOD)
def test_names_of_every_script_are_accepted(name):
    _cleaned, errors = rules.clean_values({"given_name": name, "family_name": name})
    assert "given_name" not in errors and "family_name" not in errors


@pytest.mark.parametrize(("name", "code"), BAD)
def test_emoji_bidi_zero_width_and_control_characters_are_refused(name, code):
    _cleaned, errors = rules.clean_values({"given_name": name})
    assert errors["given_name"].code == code


def test_employers_may_have_digits_and_ampersands_but_no_invisible_characters():
    _cleaned, errors = rules.clean_values({"employer": "AT&T (Dallas) / 3M", "occupation": "Dev"})
    assert errors == {}
    _cleaned, errors = rules.clean_values({"employer": "Acme\u2066 Corp"})
    assert errors["employer"].code == "invalid_characters"


def test_invisible_characters_are_refused_in_every_text_field_through_the_api():
    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.post(
        "/api/v1/applications",
        {"given_name": "Sam", "city": "Aus\u202etin", "street_address": "1 Main\u200b St"},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields["city"]["code"] == "invalid_characters"
    assert fields["street_address"]["code"] == "invalid_characters"
    assert "right-to-left" in fields["city"]["message"]


def test_names_are_stored_in_nfc():
    cleaned, errors = rules.clean_values({"given_name": "Zoe\u0308"})
    assert not errors
    assert cleaned["given_name"] == "Zoë"
