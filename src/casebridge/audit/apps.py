from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "casebridge.audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from casebridge.kernel import history, lookups

        history.install()
        lookups.install()
