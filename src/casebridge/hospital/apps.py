from django.apps import AppConfig


class HospitalConfig(AppConfig):
    name = "casebridge.hospital"
    verbose_name = "Hospital case management"

    def ready(self) -> None:
        from casebridge.hospital import signals  # noqa: F401  (connects the risk refresh receivers)
