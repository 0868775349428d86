"""Bounds shared by API schemas. IDs beyond 2**62 would overflow SQLite's integers."""

MAX_ID = 2**62
