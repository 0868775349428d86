from django.urls import path

from casebridge.coverage import views

urlpatterns = [
    path("coverage/", views.coverage_home_view, name="coverage_home"),
    path("coverage/benefits/", views.benefit_plans_view, name="coverage_benefits"),
    path("coverage/benefits/<int:plan_id>/", views.benefit_plan_view, name="coverage_benefit_plan"),
    path("coverage/prices/", views.prices_view, name="coverage_prices"),
    path("coverage/savings/", views.savings_view, name="coverage_savings"),
    path("cases/<int:case_id>/coverage/", views.workspace_view, name="coverage_workspace"),
    path("cases/<int:case_id>/coverage/settings", views.workspace_settings_view, name="coverage_settings"),
    path("cases/<int:case_id>/coverage/needs", views.need_add_view, name="coverage_need_add"),
    path("cases/<int:case_id>/coverage/needs/import", views.needs_import_view, name="coverage_needs_import"),
    path("cases/<int:case_id>/coverage/options/propose", views.options_propose_view, name="coverage_propose"),
    path("cases/<int:case_id>/coverage/options/new", views.option_create_view, name="coverage_option_new"),
    path(
        "cases/<int:case_id>/coverage/options/<int:option_id>/flags",
        views.option_flags_view,
        name="coverage_option_flags",
    ),
    path(
        "cases/<int:case_id>/coverage/options/<int:option_id>/choose",
        views.option_choose_view,
        name="coverage_option_choose",
    ),
    path("cases/<int:case_id>/coverage/negotiate", views.negotiation_open_view, name="coverage_negotiation_open"),
    path("negotiations/<int:negotiation_id>/", views.negotiation_view, name="coverage_negotiation"),
    path("negotiations/<int:negotiation_id>/send", views.proposal_send_view, name="coverage_proposal_send"),
    path("negotiations/<int:negotiation_id>/respond", views.proposal_respond_view, name="coverage_respond"),
    path("negotiations/<int:negotiation_id>/walkaway", views.walkaway_view, name="coverage_walkaway"),
    path("negotiations/<int:negotiation_id>/cancel", views.negotiation_cancel_view, name="coverage_cancel"),
    path("agreements/<int:agreement_id>/", views.agreement_view, name="coverage_agreement"),
    path("agreements/<int:agreement_id>/supersede", views.agreement_supersede_view, name="coverage_supersede"),
]
