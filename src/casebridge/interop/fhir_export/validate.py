"""Validation of outgoing resources with fhir.resources' R4B models."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError


class InvalidExport(Exception):
    """A mapper produced a resource that is not valid FHIR R4: a bug, reported with the resource's id."""


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as fhir.resources serializes it after validating it (so what leaves is what validated)."""
    rtype = resource.get("resourceType", "")
    try:
        model = get_fhir_model_class(rtype).model_validate(resource)
    except (ValidationError, ValueError, KeyError) as exc:
        raise InvalidExport(f"{rtype}/{resource.get('id', '?')} does not validate as FHIR R4: {exc}") from exc
    out: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return out
