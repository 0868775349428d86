from django.apps import AppConfig


class UtilizationConfig(AppConfig):
    name = "casebridge.utilization"
    label = "utilization"
    verbose_name = "Utilization review"
