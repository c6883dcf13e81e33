"""The fake Salesforce of the service tests, for the command tests too."""

from tests.crm_admin.services.conftest import fake_sf  # noqa: F401  (fixture)
