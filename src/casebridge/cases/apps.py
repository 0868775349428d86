from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "casebridge.cases"
    verbose_name = "Cases"
