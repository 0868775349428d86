from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "casebridge.clinical"
    verbose_name = "Clinical records"
