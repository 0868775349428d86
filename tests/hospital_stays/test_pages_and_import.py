"""Dashboard, stay and intake pages; the DRG table import (upload page and CLI); the demo enricher."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from casebridge.accounts import roles
from casebridge.cli import main
from casebridge.hospital import services
from casebridge.hospital.models import DrgWeight
from casebridge.utilization import services as ur_services

from .conftest import SAMPLE_DRG


def test_dashboard_shows_accessible_charts(cm, stay, web_as):
    services.stay_update(actor=cm, stay_id=stay.pk, working_drg="291")
    services.authorization_add(actor=cm, stay_id=stay.pk, status="approved", next_review_on=dt.date(2026, 3, 11))
    ur_services.review_schedule_initial(actor=cm, encounter_id=stay.encounter_id)
    for day in (10, 11):
        ur_services.avoidable_day_log(
            actor=cm,
            encounter_id=stay.encounter_id,
            day=dt.date(2026, 3, day),
            reason_code="awaiting_authorization",
            responsible_party="payer",
        )
    body = web_as(cm).get("/hospital/dashboard").content.decode()
    for title in (
        "Census by status",
        "Reviews due and overdue",
        "LOS index by DRG",
        "Avoidable days by reason",
        "denial rate",
        "Referral response time",
        "Readmission risk distribution",
    ):
        assert title in body, title
    assert body.count('<svg role="img"') >= 4 and "<desc id=" in body and "Data table" in body
    assert "Awaiting payer authorization: 2" in body  # avoidable days, from utilization review
    assert "UR review overdue: 1" in body  # the initial review was due 24 h after the 03/10 admission
    assert "No answered referrals yet." in body
    assert "not installed" not in body
    # The reports behind the charts and the GMLOS table are reachable from the dashboard.
    for url in ("/hospital/denials", "/utilization/avoidable-days/", "/hospital/drg"):
        assert f'href="{url}"' in body, url


def test_stay_page_shows_score_components(cm, stay, web_as):
    body = web_as(cm).get(f"/hospital/stays/{stay.pk}/").content.decode()
    assert 'data-score="LACE"' in body and 'data-score="HOSPITAL"' in body and "missing" in body


def test_stay_form_errors_are_shown_on_the_field(cm, stay, web_as):
    response = web_as(cm).post(
        f"/hospital/stays/{stay.pk}/edit", {"readiness": "ready", "expected_discharge_on": "2026-03-01"}
    )
    assert response.status_code == 422 and b"is before the admission" in response.content


def test_a_stale_stay_form_is_refused_with_a_message_not_a_server_error(cm, stay, web_as):
    response = web_as(cm).post(
        f"/hospital/stays/{stay.pk}/edit",
        {"version": stay.version + 5, "working_drg": "291", "readiness": stay.readiness},
    )
    assert response.status_code == 422 and b"changed by someone else" in response.content
    stay.refresh_from_db()
    assert stay.working_drg != "291"


def test_intake_page_for_insurer(cm, stay, insurer, make_actor, web_as):
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    services.packet_send(actor=cm, packet_id=packet.pk, insurer_id=insurer.pk, acknowledge_missing=True)
    intake = make_actor(insurer, roles.INTAKE_COORDINATOR)
    client = web_as(intake)
    listing = client.get("/intake/")
    assert listing.status_code == 200 and b"General Hospital" in listing.content and b"Intake" in listing.content
    share = packet.shares.get()
    assert client.get(f"/intake/{share.pk}/").status_code == 200
    assert client.post(f"/intake/{share.pk}/", {"note": "Approved 2 days"}).status_code == 302
    share.refresh_from_db()
    assert share.reviewed_at is not None


def test_drg_upload_replaces_the_table_and_refuses_bad_files(hospital, make_actor, web_as):
    admin = make_actor(hospital, roles.ORG_ADMIN)
    client = web_as(admin)
    bad = SimpleUploadedFile("t.csv", b"drg,title,gmlos\n291,Heart failure,abc\n", content_type="text/csv")
    response = client.post("/hospital/drg", {"file": bad, "source": "test"})
    assert response.status_code == 422 and b"line 2 gmlos" in response.content
    assert not DrgWeight.objects.exists()
    good = SimpleUploadedFile("t.csv", SAMPLE_DRG.read_bytes(), content_type="text/csv")
    assert client.post("/hospital/drg", {"file": good, "source": "SAMPLE"}).status_code == 302
    assert DrgWeight.objects.filter(organization=hospital).count() == 18


def test_cli_import_drg(hospital, capsys):
    assert main(["import-drg", str(SAMPLE_DRG), "--organization", hospital.name]) == 0
    assert "18 DRG rows imported" in capsys.readouterr().out
    assert DrgWeight.objects.get(organization=hospital, drg="291").gmlos == 4
    assert main(["import-drg", str(SAMPLE_DRG), "--organization", "Nowhere"]) == 2
