from django.urls import path

from casebridge.tasks import views

urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("caseload/", views.caseload_view, name="caseload"),
    path("caseload/cases/<int:case_id>/assign", views.caseload_case_assign_view, name="caseload_case_assign"),
    path("caseload/queues", views.queue_create_view, name="queue_create"),
    path("caseload/queues/<int:queue_id>/members", views.queue_member_add_view, name="queue_member_add"),
    path("cases/<int:case_id>/tasks/new", views.task_add_view, name="task_add"),
    path("tasks/<int:task_id>/start", views.task_start_view, name="task_start"),
    path("tasks/<int:task_id>/complete", views.task_complete_view, name="task_complete"),
    path("tasks/<int:task_id>/claim", views.task_claim_view, name="task_claim"),
    path("tasks/<int:task_id>/reassign", views.task_reassign_view, name="task_reassign"),
]
