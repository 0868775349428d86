"""The REST API at /api/v1: one NinjaAPI, each business area adds its router."""

from __future__ import annotations

from casebridge.api.base import build_api

api = build_api()
