"""Indexes for the console's date columns sorted newest first with the blanks last (``crm_admin.keyset``).

The ascending ``link_by_linked_at`` and ``link_by_health_checked_at`` indexes read backwards give
"descending, NULLs first"; "descending, NULLs last" needs its own. PostgreSQL only: SQLite cannot index
``NULLS LAST`` and sorts instead, which development sizes afford.
"""

from django.db import migrations

COLUMNS = ("linked_at", "health_checked_at")


def index_name(column: str) -> str:
    return f"link_by_{column}_desc"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(column)} "
            f"ON crm_admin_salesforcelink ({column} DESC NULLS LAST, id DESC)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index_name(column)}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm_admin", "0004_health_queue_tokens"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
