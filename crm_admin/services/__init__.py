"""Writes. Each service is one transaction that also writes its audit row; calls to Salesforce happen
outside transactions, and side effects that must follow a commit run after the atomic block."""
