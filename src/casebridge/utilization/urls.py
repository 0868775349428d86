from django.urls import path

from casebridge.utilization import views

urlpatterns = [
    path("utilization/reviews/", views.review_list_view, name="ur_reviews"),
    path("utilization/reviews/<int:review_id>/", views.review_detail_view, name="ur_review"),
    path("utilization/encounters/<int:encounter_id>/review", views.review_schedule_view, name="ur_review_schedule"),
    path("utilization/encounters/<int:encounter_id>/moon", views.moon_start_view, name="ur_moon_start"),
    path("utilization/encounters/<int:encounter_id>/cc44", views.cc44_start_view, name="ur_cc44_start"),
    path("utilization/advisor/", views.advisor_queue_view, name="ur_advisor_queue"),
    path(
        "utilization/reviews/<int:review_id>/determinations",
        views.determination_open_view,
        name="ur_determination_open",
    ),
    path("utilization/determinations/<int:determination_id>/", views.determination_view, name="ur_determination"),
    path("utilization/moon/<int:moon_id>/", views.moon_view, name="ur_moon"),
    path("utilization/cc44/<int:cc44_id>/", views.cc44_view, name="ur_cc44"),
    path("utilization/criteria/", views.criteria_library_view, name="ur_criteria"),
    path("utilization/criteria/<int:set_id>/", views.criteria_set_view, name="ur_criteria_set"),
    path("utilization/avoidable-days/", views.avoidable_days_view, name="ur_avoidable_days"),
    path("utilization/avoidable-days/reasons", views.avoidable_reason_add_view, name="ur_avoidable_reason_add"),
]
