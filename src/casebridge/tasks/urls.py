from django.urls import path

from casebridge.tasks import views

urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("caseload/", views.caseload_view, name="caseload"),
]
