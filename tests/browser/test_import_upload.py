"""An organization admin uploads bulk FHIR files and watches the import's progress, then its report,
without reloading the page.

PostgreSQL only: the import runs on a thread of the live server while the page polls it, and the
test database SQLite uses here is in memory with table locks that a reader does not wait out.
"""

from __future__ import annotations

import re
import time

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from casebridge.accounts import roles
from casebridge.interop import services
from casebridge.interop.fhir.importer import FhirImporter
from tests.interop.fhir_data import BULK
from tests.support.world import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]


def test_an_upload_shows_its_progress_then_its_report(page, hospital, monkeypatch):
    admin = make_user(hospital, "admin.ola", roles.ORG_ADMIN)
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0.0)
    real_chunk = FhirImporter._process_chunk

    def slow_chunk(self, chunk, writer, *sent):  # type: ignore[no-untyped-def]
        time.sleep(0.6)  # long enough to be seen running, as a large file is
        real_chunk(self, chunk, writer, *sent)

    monkeypatch.setattr(FhirImporter, "_process_chunk", slow_chunk)
    page.goto("/login/")
    page.get_by_label("Username").fill(admin.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto("/admin/import")
    page.get_by_label("Files").set_input_files([str(BULK / "Patient.000.ndjson"), str(BULK / "Condition.000.ndjson")])
    with override_settings(FHIR_UPLOAD_IN_BACKGROUND=True):
        page.get_by_role("button", name="Import").click()
        page.get_by_role("heading", name=re.compile(r"Import #\d+")).wait_for()
        status = page.get_by_role("status").filter(has_text="resources")
        expect(status).to_contain_text(re.compile(r"\d+ of 568 resources \(\d+%\)"))
        expect(page.locator("progress.import-progress")).to_have_attribute("max", "568")
        # The page polls itself: the report replaces the progress bar, no reload.
        expect(page.locator(".page-head .badge")).to_have_text("Completed", timeout=30_000)
    expect(page.locator("progress")).to_have_count(0)
    patients = page.locator("tbody tr").filter(has=page.get_by_role("cell", name="Patient", exact=True))
    expect(patients.locator("td").nth(1)).to_have_text("13")  # the Created column
    # The conditions name encounters that were not uploaded: each is listed with its reason.
    expect(page.get_by_role("heading", name="Rejected (555)")).to_be_visible()
