from django.urls import path

from casebridge.communications import views

urlpatterns = [
    path("cases/<int:case_id>/communications/new", views.communication_log_view, name="communication_log"),
    path("cases/<int:case_id>/documents/new", views.case_document_upload_view, name="case_document_upload"),
    path("patients/<int:patient_id>/documents/", views.patient_documents_view, name="patient_documents"),
    path("documents/<int:document_id>/download", views.document_download_view, name="document_download"),
]
