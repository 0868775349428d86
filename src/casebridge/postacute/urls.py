from django.urls import path

from casebridge.postacute import views

urlpatterns = [
    path("directory/", views.directory_view, name="directory"),
    path("directory/new", views.provider_create_view, name="provider_create"),
    path("directory/<int:provider_id>/", views.provider_detail_view, name="provider_detail"),
    path("directory/<int:provider_id>/edit", views.provider_edit_view, name="provider_edit"),
    path("directory/<int:provider_id>/status", views.provider_status_view, name="provider_status"),
    path("directory/<int:provider_id>/networks", views.network_add_view, name="provider_network_add"),
    path("directory/<int:provider_id>/financial-interest", views.interest_view, name="provider_interest"),
    path("cases/<int:case_id>/choice-lists/new", views.choice_list_new_view, name="choice_list_new"),
    path("choice-lists/<int:choice_list_id>/", views.choice_list_detail_view, name="choice_list_detail"),
    path("choice-lists/<int:choice_list_id>/present", views.choice_list_present_view, name="choice_list_present"),
    path("cases/<int:case_id>/referrals/new", views.referral_new_view, name="referral_new"),
    path("referrals/", views.referral_queue_view, name="referral_queue"),
    path("referrals/<int:referral_id>/", views.referral_detail_view, name="referral_detail"),
    path("referrals/<int:referral_id>/packet", views.referral_packet_view, name="referral_packet"),
    path("referrals/<int:referral_id>/accept", views.referral_accept_view, name="referral_accept"),
    path("referrals/<int:referral_id>/decline", views.referral_decline_view, name="referral_decline"),
    path("referrals/<int:referral_id>/response", views.referral_response_view, name="referral_response"),
    path("referrals/<int:referral_id>/agreement", views.referral_agreement_view, name="referral_agreement"),
    path("referrals/<int:referral_id>/withdraw", views.referral_withdraw_view, name="referral_withdraw"),
]
