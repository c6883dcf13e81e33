"""Salesforce ids: the 18-character checksum form (reference §9)."""

from __future__ import annotations

import pytest

from crm_admin.salesforce import ids


@pytest.mark.parametrize(
    ("id15", "id18"),
    [("00D36000000arML", "00D36000000arMLEAY"), ("a0RE000000IJmcN", "a0RE000000IJmcNMAT")],
)
def test_reference_examples(id15, id18):
    assert ids.checksum(id15) == id18[15:]
    assert ids.to_18(id15) == id18
    assert ids.to_18(id18) == id18
    assert ids.is_valid_18(id18)


def test_to_18_accepts_a_lower_case_checksum_and_returns_the_canonical_form():
    assert ids.to_18("00D36000000arMLeay") == "00D36000000arMLEAY"


@pytest.mark.parametrize("suffix", ["EAZ", "AAY", "MAT"])
def test_bad_checksum_is_rejected(suffix):
    with pytest.raises(ValueError, match="checksum"):
        ids.to_18("00D36000000arML" + suffix)
    assert not ids.is_valid_18("00D36000000arML" + suffix)


@pytest.mark.parametrize("length", [0, 14, 16, 17, 19])
def test_bad_length_is_rejected(length):
    record_id = ("00D36000000arMLEAY" + "A")[:length]
    with pytest.raises(ValueError):
        ids.to_18(record_id)
    assert not ids.is_valid_18(record_id)


@pytest.mark.parametrize("record_id", ["00D36000000arM-", "00D36000000arM ", "00D36000000arMé", "00D36000000ar_LEAY"])
def test_characters_other_than_ascii_letters_and_digits_are_rejected(record_id):
    with pytest.raises(ValueError):
        ids.to_18(record_id)
    assert not ids.is_valid_18(record_id)


def test_ids_differing_only_in_case_stay_distinct_when_compared_case_insensitively():
    lower, upper = ids.to_18("00D36000000arML"), ids.to_18("00D36000000ARML")
    assert lower[:15].lower() == upper[:15].lower()
    assert lower.lower() != upper.lower()


def test_is_valid_18_refuses_the_15_character_form_and_a_non_canonical_checksum():
    assert not ids.is_valid_18("00D36000000arML")
    assert not ids.is_valid_18("00D36000000arMLeay")


def test_is_valid_18_checks_the_key_prefix():
    assert ids.is_valid_18("00D36000000arMLEAY", ids.ORGANIZATION_PREFIX)
    assert not ids.is_valid_18("00D36000000arMLEAY", ids.USER_PREFIX)
    assert not ids.is_valid_18("a0RE000000IJmcNMAT", ids.ORGANIZATION_PREFIX)
    user_id = ids.to_18("005360000012345")
    assert ids.is_valid_18(user_id, ids.USER_PREFIX)
    assert not ids.is_valid_18(user_id, ids.ORGANIZATION_PREFIX)


@pytest.mark.parametrize("record_id", ["00D36000000arML\n", "00D36000000arMLEAY\n"])
def test_a_trailing_newline_is_rejected(record_id):
    with pytest.raises(ValueError):
        ids.to_18(record_id)
