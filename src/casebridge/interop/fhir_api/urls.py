"""Routes under /fhir/r4 (included as ``path("fhir/r4", include(...))`` so the base answers with and
without a trailing slash: FHIR clients POST Bundles to the base exactly as configured)."""

from __future__ import annotations

from django.urls import path, re_path

from casebridge.interop.fhir_api import views

app_name = "fhir"

ID = r"(?P<fhir_id>[A-Za-z0-9\-.]{1,64})"
TYPE = r"(?P<resource_type>[A-Z][A-Za-z]{1,63})"

urlpatterns = [
    path("", views.base, name="base"),
    path("/", views.base),
    path("/metadata", views.metadata, name="metadata"),
    re_path(rf"^/Patient/{ID}/\$everything$", views.everything, name="everything"),
    re_path(rf"^/{TYPE}/_search$", views.search_post, name="search-post"),
    re_path(rf"^/{TYPE}/{ID}$", views.read, name="read"),
    re_path(rf"^/{TYPE}$", views.search_type, name="search"),
    re_path(r"^/(?P<rest>.*)$", views.unknown),
]
