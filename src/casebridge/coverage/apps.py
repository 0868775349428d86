from django.apps import AppConfig


class CoverageConfig(AppConfig):
    name = "casebridge.coverage"
    verbose_name = "Coverage, options and negotiation"
