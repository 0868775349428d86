from django.urls import include, path

from casebridge.api.router import api
from casebridge.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("fhir/r4", include("casebridge.interop.fhir_api.urls")),
    path("", include("casebridge.web.urls")),
]
