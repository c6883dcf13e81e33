"""Fixtures for the emulator's tests: the seeded demo data and the flow driver (``driver.Salesforce``)."""

from __future__ import annotations

import pytest
from django.test import Client

from salesforce_emulator.seed import seed
from tests.salesforce_emulator.driver import Salesforce


@pytest.fixture
def seeded(db: None) -> None:
    seed()


@pytest.fixture
def sf(client: Client, seeded: None) -> Salesforce:
    return Salesforce(client)
