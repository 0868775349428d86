"""Limit/offset pagination with bounded numbers: an offset beyond a 64-bit integer would reach the
database as an out-of-range value (a 500 on SQLite), so it is refused as bad input instead."""

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 200
MAX_OFFSET = 10_000_000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(50, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
