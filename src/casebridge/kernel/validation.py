"""Runs Django's model validation and turns its errors into field-named ValidationFailed."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from casebridge.kernel.errors import ValidationFailed


def errors_from(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field" if field == "__all__" else field): [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"non_field": [str(m) for m in exc.messages]}


def loaded_relations(instance: models.Model) -> set[str]:
    """The many-to-one fields of ``instance`` that hold a row read from the database (assigned as an
    object, not as a bare id) with no ``limit_choices_to``: their target exists, so Django's per-field
    ``SELECT 1`` existence check would only repeat what the caller just read. The foreign key
    constraint still guards the write."""
    out = set()
    for f in instance._meta.concrete_fields:
        if not (f.many_to_one and f.is_cached(instance)):  # type: ignore[attr-defined]
            continue
        target = f.get_cached_value(instance)  # type: ignore[attr-defined]
        if (
            target is not None
            and not target._state.adding
            and target.pk is not None
            and getattr(instance, f.attname) == target.pk
            and not f.get_limit_choices_to()  # type: ignore[attr-defined]
        ):
            out.add(f.name)
    return out


def validate_model(
    instance: models.Model, *, exclude: Iterable[str] = (), unique: bool = True, trust_loaded: bool = False
) -> None:
    """``unique=False`` leaves uniqueness (fields and constraints) to the database, for callers that turn
    the IntegrityError into a field-named error themselves.

    ``trust_loaded=True`` skips the existence query of foreign keys that hold a row the caller read
    from the database (see ``loaded_relations``); those fields still take part in the uniqueness and
    constraint checks. Everything else is exactly ``full_clean``."""
    excluded = set(exclude)
    trusted = loaded_relations(instance) - excluded if trust_loaded else set()
    errors: dict[str, list[ValidationError]] = {}
    try:
        instance.full_clean(exclude=list(excluded | trusted), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if unique:
        # As full_clean: uniqueness, then constraints, only for the fields that passed so far.
        for check in (instance.validate_unique, instance.validate_constraints):
            excluded |= {name for name in errors if name != NON_FIELD_ERRORS}
            try:
                check(exclude=excluded)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
    if errors:
        failure = ValidationError(errors)
        field_errors = errors_from(failure)
        summary = "; ".join(f"{f}: {' '.join(msgs)}" for f, msgs in field_errors.items())
        raise ValidationFailed(summary, field_errors=field_errors) from failure
