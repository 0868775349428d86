from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "casebridge.patients"
    verbose_name = "Patients"
