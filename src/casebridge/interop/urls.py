from django.urls import path

from casebridge.interop import views

# POST /fhir/r4 (bundles) is served by casebridge.interop.api.fhir_base, dispatched from the FHIR API's base view.
urlpatterns = [
    path("admin/import", views.import_page, name="fhir_import"),
    path("admin/import/<int:run_id>", views.import_run_page, name="fhir_import_run"),
    path("admin/hl7", views.hl7_log_page, name="hl7_log"),
]
