"""Salesforce ids (reference §9): checksum, derived ids, comparison of 15- and 18-character forms."""

from __future__ import annotations

import pytest

from salesforce_emulator import ids
from salesforce_emulator.models import Organization, SalesforceUser


@pytest.mark.parametrize(("id15", "suffix"), [("00D36000000arML", "EAY"), ("a0RE000000IJmcN", "MAT")])
def test_checksum_matches_reference_examples(id15: str, suffix: str) -> None:
    assert ids.checksum(id15) == suffix


def test_derived_id_is_stable_prefixed_and_checksummed() -> None:
    user_id = ids.derive(ids.USER_PREFIX, "api@acme.example")

    assert user_id == ids.derive(ids.USER_PREFIX, "api@acme.example")
    assert user_id != ids.derive(ids.USER_PREFIX, "api2@acme.example")
    assert len(user_id) == 18
    assert user_id.startswith("005")
    assert user_id[15:] == ids.checksum(user_id[:15])


def test_same_id_compares_15_case_sensitively_and_18_case_insensitively() -> None:
    record_id = "00D36000000arMLEAY"

    assert ids.same_id("00D36000000arML", record_id)
    assert not ids.same_id("00D36000000ARML", record_id)
    assert ids.same_id("00d36000000armleay", record_id)
    assert not ids.same_id("00D36000000arMLEAZ", record_id)
    assert not ids.same_id("00D36000000arM", record_id)


def test_seeded_ids_are_valid(seeded: None) -> None:
    for record_id in [
        *Organization.objects.values_list("id", flat=True),
        *SalesforceUser.objects.values_list("id", flat=True),
    ]:
        assert record_id[15:] == ids.checksum(record_id[:15])
