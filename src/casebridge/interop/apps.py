from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "casebridge.interop"
    verbose_name = "Interoperability"
