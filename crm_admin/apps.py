from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CrmAdminConfig(AppConfig):
    name = "crm_admin"
    verbose_name = "CRM Admin"

    def ready(self) -> None:
        from crm_admin import checks  # noqa: F401  (registers the system checks)
        from crm_admin.signals import ensure_roles_after_migrate

        post_migrate.connect(ensure_roles_after_migrate, sender=self)
