from django.apps import AppConfig


class UtilizationConfig(AppConfig):
    name = "casebridge.utilization"
    label = "utilization"
    verbose_name = "Utilization review"

    def ready(self) -> None:
        from casebridge.clinical.signals import admission_case_opened
        from casebridge.utilization.services import moon_open_for_observation_admission

        admission_case_opened.connect(moon_open_for_observation_admission, dispatch_uid="utilization-moon-on-admission")
