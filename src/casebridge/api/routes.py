"""Every business area's router, mounted in one place."""

from __future__ import annotations

from ninja import NinjaAPI


def register(api: NinjaAPI) -> None:
    from casebridge.accounts.api import auth_router
    from casebridge.accounts.api import router as accounts_router
    from casebridge.cases.api import router as cases_router
    from casebridge.patients.api import router as patients_router

    api.add_router("/auth", auth_router)
    api.add_router("/", accounts_router)
    api.add_router("/patients", patients_router)
    api.add_router("/cases", cases_router)
    api.add_router("/", "casebridge.communications.api.router")
    api.add_router("/", "casebridge.tasks.api.router")
    api.add_router("/", "casebridge.careplans.api.router")
    api.add_router("/", "casebridge.postacute.api.router")
    api.add_router("/", "casebridge.coverage.api.router")
    api.add_router("/utilization", "casebridge.utilization.api.router")
    api.add_router("/", "casebridge.hospital.api.router")
