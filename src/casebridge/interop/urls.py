from django.urls import path

from casebridge.interop import api, views

urlpatterns = [
    path("fhir/r4", api.fhir_base, name="fhir_base"),
    path("admin/import", views.import_page, name="fhir_import"),
    path("admin/import/<int:run_id>", views.import_run_page, name="fhir_import_run"),
]
