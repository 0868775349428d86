from django.urls import path

from casebridge.careplans import views

urlpatterns = [
    path("cases/<int:case_id>/care-plan/goals/new", views.goal_add_view, name="goal_add"),
    path("cases/<int:case_id>/care-plan/history", views.careplan_history_view, name="careplan_history"),
    path("cases/<int:case_id>/assessments/new", views.assessment_start_view, name="assessment_start"),
    path("assessments/<int:assessment_id>/", views.assessment_detail_view, name="assessment_detail"),
    path("goals/<int:goal_id>/edit", views.goal_edit_view, name="goal_edit"),
    path("goals/<int:goal_id>/transition", views.goal_transition_view, name="goal_transition"),
    path("goals/<int:goal_id>/interventions/new", views.intervention_add_view, name="intervention_add"),
    path("interventions/<int:intervention_id>/status", views.intervention_status_view, name="intervention_status"),
]
