"""Runs Django's model validation and turns its errors into field-named ValidationFailed."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models

from casebridge.kernel.errors import ValidationFailed


def errors_from(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field" if field == "__all__" else field): [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"non_field": [str(m) for m in exc.messages]}


def validate_model(instance: models.Model, *, exclude: Iterable[str] = (), unique: bool = True) -> None:
    """``unique=False`` leaves uniqueness (fields and constraints) to the database, for callers that turn
    the IntegrityError into a field-named error themselves."""
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=unique, validate_constraints=unique)
    except ValidationError as exc:
        field_errors = errors_from(exc)
        summary = "; ".join(f"{f}: {' '.join(msgs)}" for f, msgs in field_errors.items())
        raise ValidationFailed(summary, field_errors=field_errors) from exc
