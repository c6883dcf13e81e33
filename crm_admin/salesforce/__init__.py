"""The HTTP client for Salesforce. Nothing else in the portal talks to Salesforce."""

from crm_admin.salesforce.client import Identity, Introspection, SalesforceClient, TokenResponse

__all__ = ["Identity", "Introspection", "SalesforceClient", "TokenResponse"]
