"""Bootstrapping after ``migrate``: the role groups exist on every database, empty or not."""

from __future__ import annotations

from typing import Any


def ensure_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    from crm_admin.services.accounts import roles_ensure

    roles_ensure()
