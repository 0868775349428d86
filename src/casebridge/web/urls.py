from django.contrib.auth import views as auth_views
from django.urls import include, path

from casebridge.accounts import views as accounts
from casebridge.cases import views as cases
from casebridge.patients import views as patients

urlpatterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organization/switch", accounts.switch_organization, name="switch_organization"),
    path("admin/organization", accounts.admin_organization, name="admin_organization"),
    path("admin/users", accounts.admin_users, name="admin_users"),
    path("admin/users/<int:user_id>", accounts.admin_user_detail, name="admin_user_detail"),
    path("admin/organizations", accounts.platform_organizations, name="platform_organizations"),
    path("patients/", patients.patient_search_view, name="patient_search"),
    path("patients/new", patients.patient_create_view, name="patient_create"),
    path("patients/<int:patient_id>/", patients.patient_detail_view, name="patient_detail"),
    path("patients/<int:patient_id>/edit", patients.patient_edit_view, name="patient_edit"),
    path("cases/new", cases.case_create_view, name="case_create"),
    path("cases/<int:case_id>/", cases.case_detail_view, name="case_detail"),
    path("cases/<int:case_id>/transition", cases.case_transition_view, name="case_transition"),
    path("cases/<int:case_id>/care-team", cases.careteam_add_view, name="careteam_add"),
    path("cases/<int:case_id>/assign", cases.case_assign_view, name="case_assign"),
    path("", include("casebridge.tasks.urls")),
    path("", include("casebridge.careplans.urls")),
    path("", include("casebridge.communications.urls")),
    path("", include("casebridge.coverage.urls")),
    path("", include("casebridge.audit.urls")),
    path("", include("casebridge.interop.urls")),
    path("", include("casebridge.postacute.urls")),
    path("", include("casebridge.utilization.urls")),
    path("", include("casebridge.hospital.urls")),
]
