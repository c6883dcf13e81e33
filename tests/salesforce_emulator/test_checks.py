"""The emulator refuses to start with DEBUG off (salesforce_emulator.E001)."""

from __future__ import annotations

from django.core import checks
from django.test import override_settings

from salesforce_emulator.checks import check_debug_only


def test_debug_off_is_an_error() -> None:
    with override_settings(DEBUG=False, SALESFORCE_EMULATOR=True):
        [error] = check_debug_only()

    assert error.id == "salesforce_emulator.E001"
    assert error.level == checks.ERROR
    assert error.msg == "The Salesforce emulator must never run with DEBUG off."


def test_debug_on_is_fine() -> None:
    with override_settings(DEBUG=True, SALESFORCE_EMULATOR=True):
        assert check_debug_only() == []


def test_check_runs_with_the_vcc_config_tag() -> None:
    with override_settings(DEBUG=False):
        errors = checks.run_checks(tags=["vcc_config"])

    assert "salesforce_emulator.E001" in {error.id for error in errors}
