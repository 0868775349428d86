from django.urls import path

from casebridge.hospital import views

urlpatterns = [
    path("hospital/census", views.census_view, name="census"),
    path("hospital/dashboard", views.dashboard_view, name="hospital_dashboard"),
    path("hospital/denials", views.denial_report_view, name="hospital_denial_report"),
    path("hospital/drg", views.drg_upload_view, name="hospital_drg_upload"),
    path("hospital/encounters/<int:encounter_id>/stay", views.stay_for_encounter_view, name="hospital_stay_open"),
    path("hospital/stays/<int:stay_id>/", views.stay_detail_view, name="hospital_stay"),
    path("hospital/stays/<int:stay_id>/edit", views.stay_update_view, name="hospital_stay_update"),
    path("hospital/stays/<int:stay_id>/risk", views.risk_refresh_view, name="hospital_risk_refresh"),
    path(
        "hospital/stays/<int:stay_id>/authorizations", views.authorization_add_view, name="hospital_authorization_add"
    ),
    path(
        "hospital/authorizations/<int:authorization_id>/edit",
        views.authorization_update_view,
        name="hospital_authorization_update",
    ),
    path("hospital/stays/<int:stay_id>/calls", views.payer_contact_view, name="hospital_payer_contact"),
    path("hospital/stays/<int:stay_id>/packets", views.packet_build_view, name="hospital_packet_build"),
    path("hospital/stays/<int:stay_id>/denials", views.denial_add_view, name="hospital_denial_add"),
    path("hospital/stays/<int:stay_id>/screen", views.screen_view, name="hospital_screen"),
    path("hospital/stays/<int:stay_id>/evaluation", views.evaluation_view, name="hospital_evaluation"),
    path("hospital/stays/<int:stay_id>/barriers", views.barrier_add_view, name="hospital_barrier_add"),
    path("hospital/stays/<int:stay_id>/needs", views.need_add_view, name="hospital_need_add"),
    path("hospital/barriers/<int:barrier_id>/resolve", views.barrier_resolve_view, name="hospital_barrier_resolve"),
    path(
        "hospital/denials/<int:denial_id>/peer-to-peer",
        views.denial_peer_to_peer_view,
        name="hospital_denial_peer_to_peer",
    ),
    path("hospital/denials/<int:denial_id>/appeal", views.denial_appeal_view, name="hospital_denial_appeal"),
    path("hospital/denials/<int:denial_id>/outcome", views.denial_outcome_view, name="hospital_denial_outcome"),
    path("hospital/packets/<int:packet_id>/", views.packet_view, name="hospital_packet"),
    path("hospital/packets/<int:packet_id>/bundle.json", views.packet_bundle_view, name="hospital_packet_bundle"),
    path("hospital/packets/<int:packet_id>/share/end", views.packet_share_end_view, name="hospital_packet_share_end"),
    path("intake/", views.intake_view, name="hospital_intake"),
    path("intake/<int:share_id>/", views.intake_detail_view, name="hospital_intake_detail"),
]
