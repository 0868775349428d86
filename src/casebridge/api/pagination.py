"""Limit/offset pagination with bounded numbers: an offset beyond a 64-bit integer would reach the
database as an out-of-range value (a 500 on SQLite), so it is refused as bad input instead."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from casebridge.api.base import actor_of
from casebridge.audit.recorder import audit_listed

MAX_LIMIT = 200
MAX_OFFSET = 10_000_000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(50, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PatientAuditedPagination(BoundedLimitOffsetPagination):
    """Bounded pagination that records, for each patient on the page returned, that it was read.

    A list of cases, tasks or referrals across patients shows each patient's name and clinical
    context, so each patient's access history must show it; only the page actually returned is
    recorded, in one bulk insert. Use as ``@paginate(PatientAuditedPagination, audit_action="case.list")``.
    """

    def __init__(self, *, audit_action: str, **kwargs: Any) -> None:
        self.audit_action = audit_action
        super().__init__(**kwargs)

    def paginate_queryset(self, queryset: QuerySet, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        items = list(page[self.items_attribute])
        page[self.items_attribute] = items
        audit_listed(
            actor=actor_of(request),
            action=self.audit_action,
            rows=items,
            detail={"path": request.path, "offset": pagination.offset, "limit": pagination.limit},
        )
        return page
