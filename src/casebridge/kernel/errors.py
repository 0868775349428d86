"""Errors the services raise; entrypoints turn them into HTTP answers in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A request that the business rules refuse. Maps to HTTP 422 unless a subclass says otherwise."""

    status = 422
    title = "Request refused"

    def __init__(self, detail: str, *, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field_errors = field_errors or {}


class ValidationFailed(DomainError):
    status = 422
    title = "Invalid input"

    @classmethod
    def on(cls, field: str, reason: str) -> ValidationFailed:
        return cls(f"{field}: {reason}", field_errors={field: [reason]})


class IllegalTransition(DomainError):
    status = 409
    title = "Illegal status change"


class NotFound(DomainError):
    """Also raised for objects outside the actor's organization, so their existence does not leak."""

    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    status = 403
    title = "Forbidden"


class StaleVersion(DomainError):
    status = 409
    title = "Edit conflict"

    def __init__(self, what: str) -> None:
        super().__init__(
            f"This {what} was changed by someone else since you opened it. "
            "Reload to see their changes, then apply yours again."
        )
