"""Bounds shared by API schemas. IDs beyond 2**62 would overflow SQLite's integers, so every integer a
request carries has an upper bound (tests/api/test_openapi_document.py holds the API to that)."""

from typing import Annotated

from pydantic import Field

MAX_ID = 2**62

# An id inside a list or map of a request body (a path or field id uses ``Field(ge=1, le=MAX_ID)``).
IdItem = Annotated[int, Field(ge=1, le=MAX_ID)]
