from django.urls import path

from casebridge.audit import views

urlpatterns = [
    path("audit/", views.audit_log_view, name="audit_log"),
    path("audit/export.json", views.audit_export_view, name="audit_export"),
]
