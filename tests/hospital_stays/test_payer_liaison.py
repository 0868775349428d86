"""Packets, the pre-send check, sending on and off the platform, the insurer's view, denials and their rate."""

import datetime as dt

import pytest

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.communications.models import Communication
from casebridge.hospital import selectors, services
from casebridge.hospital.models import Authorization, PacketShare, ReviewPacket
from casebridge.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from casebridge.tasks.models import Task
from casebridge.utilization import services as ur_services

from .conftest import at, condition, lab


def keys(packet):
    return [m["key"] for m in packet.missing]


def complete_initial_review(cm, make_actor, stay):
    """The starter criteria library installed by the medical director, then the case manager's initial review:
    evaluated against the Two-Midnight set and the recommendation confirmed."""
    director = make_actor(cm.organization, roles.MEDICAL_DIRECTOR, username="meddir")
    ur_services.criteria_library_install_starter(actor=director)
    review = ur_services.review_schedule_initial(actor=cm, encounter_id=stay.encounter_id)
    review = ur_services.review_evaluate(
        actor=cm,
        review_id=review.pk,
        set_keys=["two_midnight"],
        answers={"two_midnight": {"expects_two_midnights": "met", "complex_factors": {"value": "met"}}},
    )
    decision = "confirmed" if review.recommended_level else "overridden"
    return ur_services.review_complete(
        actor=cm,
        review_id=review.pk,
        decision=decision,
        level="" if review.recommended_level else "inpatient",
        reason="" if review.recommended_level else "Physician documents complex factors",
    )


def test_pre_send_check_lists_what_a_reviewer_would_miss(cm, make_actor, stay):
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    assert {
        "expected_discharge_on",
        "complex_factors",
        "authorization",
        "diagnoses",
        "vitals",
        "labs",
        "treatments",
        "plan",
        "working_drg",
    } <= set(keys(packet))
    assert "criteria" in keys(packet)  # no utilization review evaluated yet

    condition(stay.encounter, "J18.9", "Pneumonia")
    lab(stay.encounter, "718-7", 11.0, "g/dL", at(11, 6))
    lab(stay.encounter, "8867-4", 96, "/min", at(11, 6), category="vital-signs", name="Heart rate")
    services.stay_update(
        actor=cm,
        stay_id=stay.pk,
        expected_discharge_on=dt.date(2026, 3, 14),
        complex_factors="Hypoxic on 4 L, IV antibiotics, CKD",
        treatment_plan="IV ceftriaxone, wean oxygen",
        working_drg="193",
    )
    services.authorization_add(actor=cm, stay_id=stay.pk, reference_number="R-1")
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    assert keys(packet) == ["criteria", "treatments"]

    review = complete_initial_review(cm, make_actor, stay)
    packet = services.packet_build(actor=cm, stay_id=stay.pk)

    assert keys(packet) == ["treatments"]
    crossed = next(c for c in packet.content["criteria"] if "crossed two midnights" in c["criterion"])
    assert crossed["result"] == "met" and crossed["set"].startswith("Medicare Two-Midnight")
    assert {c["result"] for c in packet.content["criteria"]} <= {"met", "not met", "unknown"}
    assert all(c["level_of_care"] == review.decided_level for c in packet.content["criteria"])
    assert packet.content["stay"]["gmlos"] == "4.10"
    assert packet.content["vitals"][0]["name"] == "Heart rate"
    assert packet.content["labs"][0]["value"] == "11 g/dL"


def test_inpatient_expected_under_two_midnights_is_flagged(cm, stay):
    services.stay_update(actor=cm, stay_id=stay.pk, expected_discharge_on=dt.date(2026, 3, 11))
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    assert any("1 midnight(s)" in m["message"] for m in packet.missing)


def test_send_with_missing_items_needs_confirmation_and_changes_nothing(cm, stay, insurer):
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.packet_send(actor=cm, packet_id=packet.pk, insurer_id=insurer.pk)
    assert "acknowledge_missing" in exc.value.field_errors
    packet.refresh_from_db()
    assert packet.status == "draft"
    assert not PacketShare.objects.exists() and not Communication.objects.exists()


def test_insurer_on_the_platform_sees_the_packet_and_nothing_else(cm, stay, insurer, make_actor, make_org, api_as):
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    services.packet_send(actor=cm, packet_id=packet.pk, insurer_id=insurer.pk, acknowledge_missing=True)

    communication = Communication.objects.get()
    assert communication.case_id == stay.encounter.hospital_case_id and "packet #" in communication.summary
    reminder = Task.objects.get(pk=communication.follow_up_task_id)
    assert reminder.title == "Daily clinical update to Acme Health Plan"
    assert reminder.due_at.date() == dt.date(2026, 3, 13)

    intake = make_actor(insurer, roles.INTAKE_COORDINATOR)
    client = api_as(intake)
    listing = client.get("/api/v1/hospital/intake").json()
    assert len(listing) == 1 and listing[0]["content"]["patient"]["name"] == "Rivera, Ana"
    share_id = listing[0]["id"]
    assert client.get(f"/api/v1/hospital/intake/{share_id}").status_code == 200
    # The hospital's record stays out of reach.
    for url in (
        f"/api/v1/hospital/packets/{packet.pk}",
        f"/api/v1/hospital/stays/{stay.pk}",
        f"/api/v1/patients/{stay.patient_id}",
        f"/api/v1/cases/{stay.encounter.hospital_case_id}",
    ):
        assert client.get(url).status_code in (403, 404), url
    # Another insurer sees nothing at all.
    stranger = make_actor(make_org("Other Plan", "insurer"), roles.INTAKE_COORDINATOR)
    assert api_as(stranger).get("/api/v1/hospital/intake").json() == []
    assert api_as(stranger).get(f"/api/v1/hospital/intake/{share_id}").status_code == 404
    refused = api_as(stranger).post(
        f"/api/v1/hospital/intake/{share_id}/review", {"note": "seen"}, content_type="application/json"
    )
    assert refused.status_code == 404


def test_insurer_outside_gets_a_validated_fhir_bundle(cm, stay, web_as):
    condition(stay.encounter, "J18.9", "Pneumonia")
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    services.packet_send(
        actor=cm, packet_id=packet.pk, recipient_name="Faraway Mutual", channel="fax", acknowledge_missing=True
    )
    packet.refresh_from_db()
    bundle = packet.fhir_bundle
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert bundle["entry"][0]["resource"]["resourceType"] == "Claim"
    assert bundle["entry"][0]["resource"]["use"] == "preauthorization"
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Coverage", "Encounter", "Condition", "Organization"} <= types
    assert not PacketShare.objects.exists()
    page = web_as(cm).get(f"/hospital/packets/{packet.pk}/")
    assert page.status_code == 200 and b"window.print()" in page.content
    download = web_as(cm).get(f"/hospital/packets/{packet.pk}/bundle.json")
    assert download["Content-Type"] == "application/fhir+json"


def test_a_packet_is_sent_once(cm, stay, insurer):
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    services.packet_send(actor=cm, packet_id=packet.pk, insurer_id=insurer.pk, acknowledge_missing=True)
    with pytest.raises(Exception, match="already sent"):
        services.packet_send(actor=cm, packet_id=packet.pk, insurer_id=insurer.pk, acknowledge_missing=True)


def test_calls_with_the_insurer_are_logged_with_the_daily_reminder(cm, stay):
    services.authorization_add(actor=cm, stay_id=stay.pk)
    communication = services.payer_contact_log(
        actor=cm, stay_id=stay.pk, contact_name="Dana Price", summary="Update given"
    )
    assert communication.parties.get().kind == "insurer_cm"
    assert communication.follow_up_task.title == "Daily clinical update to Acme Health Plan"


def test_denial_peer_to_peer_appeal_and_outcome(cm, stay, make_actor, hospital):
    advisor = make_actor(hospital, roles.PHYSICIAN_ADVISOR)
    auth = services.authorization_add(actor=cm, stay_id=stay.pk, status="approved", approved_days=2)
    with pytest.raises(ValidationFailed) as exc:
        services.denial_record(actor=cm, authorization_id=auth.pk, reason="  ")
    assert "reason" in exc.value.field_errors

    denial = services.denial_record(actor=cm, authorization_id=auth.pk, reason="Observation appropriate", denied_days=1)
    auth.refresh_from_db()
    assert auth.status == "partially_approved"
    assert denial.peer_to_peer_task.owner_id == advisor.user_id and denial.peer_to_peer_task.priority == "urgent"

    services.denial_peer_to_peer(actor=cm, denial_id=denial.pk, result="Payer upheld; appeal advised")
    denial = services.denial_appeal(actor=cm, denial_id=denial.pk, appeal_deadline=dt.date(2026, 4, 10))
    auth.refresh_from_db()
    assert auth.status == "in_appeal" and denial.appeal_task.due_at.date() == dt.date(2026, 4, 10)
    services.denial_outcome(actor=cm, denial_id=denial.pk, outcome="overturned")
    auth.refresh_from_db()
    assert auth.status == "approved"


def test_denial_rate_by_payer(cm, make_patient, drg_table):
    from .conftest import admit

    def stay_with(payer, status, deny=False):
        encounter = admit(cm, make_patient(mrn=f"D{Authorization.objects.count()}"), when=at(11, 9))
        stay = services.stay_open(actor=cm, encounter_id=encounter.pk)
        auth = services.authorization_add(actor=cm, stay_id=stay.pk, payer_name=payer, status=status)
        if deny:
            services.denial_record(actor=cm, authorization_id=auth.pk, reason="Not medically necessary")

    stay_with("Acme", "approved", deny=True)
    stay_with("Acme", "approved")
    stay_with("Beta", "approved")
    stay_with("Beta", "pending")  # undecided: not counted

    rows = {r.payer: r for r in selectors.denial_rate(actor=cm, since=dt.date(2026, 3, 1))}
    assert (rows["Acme"].decided, rows["Acme"].denied, str(rows["Acme"].rate)) == (2, 1, "50.0")
    assert (rows["Beta"].decided, rows["Beta"].denied, str(rows["Beta"].rate)) == (1, 0, "0.0")
    assert (rows["All payers"].decided, rows["All payers"].denied, str(rows["All payers"].rate)) == (3, 1, "33.3")


def test_packets_of_another_hospital_are_not_found(cm, stay, make_actor, make_org):
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    other = make_actor(make_org("Other Hospital"))
    with pytest.raises(NotFound):
        selectors.packet_get(actor=other, packet_id=packet.pk)
    with pytest.raises(NotFound):
        services.packet_send(actor=other, packet_id=packet.pk, recipient_name="X", acknowledge_missing=True)
    assert ReviewPacket.objects.get().status == "draft"


def test_the_insurer_sees_a_sent_packet_only_while_the_link_is_active(cm, stay, insurer, make_actor, api_as, web_as):
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    services.packet_send(actor=cm, packet_id=packet.pk, insurer_id=insurer.pk, acknowledge_missing=True)
    intake = api_as(make_actor(insurer, roles.INTAKE_COORDINATOR))
    (share,) = intake.get("/api/v1/hospital/intake").json()
    page = web_as(cm).get(f"/hospital/packets/{packet.pk}/").content.decode()
    assert "Acme Health Plan" in page and "End sharing" in page

    response = web_as(cm).post(f"/hospital/packets/{packet.pk}/share/end")

    assert response.status_code == 302
    assert intake.get("/api/v1/hospital/intake").json() == []
    assert intake.get(f"/api/v1/hospital/intake/{share['id']}").status_code == 404
    ended = PacketShare.objects.get()
    assert not ended.active and ended.ended_at is not None
    assert AuditEvent.objects.filter(action="packet.share.end", patient_id=stay.patient_id).count() == 1
    page = web_as(cm).get(f"/hospital/packets/{packet.pk}/").content.decode()
    assert "ended" in page and "End sharing" not in page
    assert services.packet_share_end(actor=cm, packet_id=packet.pk) == 0  # already ended: nothing more


def test_the_link_ends_over_the_api_too(cm, stay, insurer, make_actor, api_as):
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    services.packet_send(actor=cm, packet_id=packet.pk, insurer_id=insurer.pk, acknowledge_missing=True)
    intake = api_as(make_actor(insurer, roles.INTAKE_COORDINATOR))
    assert len(intake.get("/api/v1/hospital/intake").json()) == 1
    url = f"/api/v1/hospital/packets/{packet.pk}/share/end"
    assert intake.post(url).status_code in (403, 404)  # not the insurer's to end: its role may not send packets
    assert PacketShare.objects.get().active
    response = api_as(cm).post(url)
    assert response.status_code == 200 and response.json() == {"packet_id": packet.pk, "links_ended": 1}
    assert intake.get("/api/v1/hospital/intake").json() == []
    assert api_as(cm).post(url).json()["links_ended"] == 0


def test_only_the_sending_hospital_can_end_the_link(cm, stay, insurer, make_actor, web_as):
    packet = services.packet_build(actor=cm, stay_id=stay.pk)
    services.packet_send(actor=cm, packet_id=packet.pk, insurer_id=insurer.pk, acknowledge_missing=True)
    for outsider in (make_actor(insurer, roles.INTAKE_COORDINATOR), make_actor(insurer, roles.CASE_MANAGER)):
        assert web_as(outsider).post(f"/hospital/packets/{packet.pk}/share/end").status_code in (403, 404)
        with pytest.raises((NotFound, PermissionDenied)):
            services.packet_share_end(actor=outsider, packet_id=packet.pk)
    assert PacketShare.objects.get().active


def test_the_payers_answer_is_recorded_on_the_authorization_from_the_stay_page(cm, stay, web_as):
    auth = services.authorization_add(actor=cm, stay_id=stay.pk, payer_name="Acme", reference_number="R-1")
    web = web_as(cm)
    page = web.get(f"/hospital/stays/{stay.pk}/").content.decode()
    assert f'<label for="id_auth{auth.pk}-status">' in page and "Save the payer's answer" in page
    p = f"auth{auth.pk}-"
    answer = {
        p + "version": auth.version,
        p + "status": "approved",
        p + "reference_number": "R-1",
        p + "approved_level_of_care": "inpatient",
        p + "approved_days": "3",
        p + "next_review_on": "2026-03-14",
    }

    assert web.post(f"/hospital/authorizations/{auth.pk}/edit", answer).status_code == 302

    auth.refresh_from_db()
    assert (auth.status, auth.approved_level_of_care, auth.approved_days) == ("approved", "inpatient", 3)
    assert auth.next_review_on == dt.date(2026, 3, 14) and auth.decided_at is not None
    (row,) = selectors.census(actor=cm, audit=False).rows
    assert (row.authorization_status, row.payer_review_on) == ("approved", dt.date(2026, 3, 14))
    assert AuditEvent.objects.filter(action="authorization.update", patient_id=stay.patient_id).count() == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"approved_days": "400"}, 'id="id_auth{pk}-approved_days_error"'),
        ({"status": "maybe"}, 'id="id_auth{pk}-status_error"'),
        ({"version": "99"}, "changed"),
    ],
)
def test_a_bad_authorization_update_is_refused_and_changes_nothing(cm, stay, web_as, change, error):
    auth = services.authorization_add(actor=cm, stay_id=stay.pk, payer_name="Acme")
    data = {"version": auth.version, "status": "approved"} | change
    response = web_as(cm).post(
        f"/hospital/authorizations/{auth.pk}/edit", {f"auth{auth.pk}-{k}": v for k, v in data.items()}
    )
    assert response.status_code == 422 and error.format(pk=auth.pk) in response.content.decode()
    auth.refresh_from_db()
    assert auth.status == "pending" and auth.version == 1


def test_another_hospital_cannot_update_our_authorization_or_record_our_peer_to_peer(
    cm, stay, make_org, make_actor, web_as
):
    auth = services.authorization_add(actor=cm, stay_id=stay.pk, payer_name="Acme", status="approved")
    denial = services.denial_record(actor=cm, authorization_id=auth.pk, reason="Observation appropriate")
    auth.refresh_from_db()
    status = auth.status
    other = web_as(make_actor(make_org("Other Hospital")))
    p = f"auth{auth.pk}-"
    assert (
        other.post(f"/hospital/authorizations/{auth.pk}/edit", {p + "version": 1, p + "status": "denied"}).status_code
        == 404
    )
    assert other.post(f"/hospital/denials/{denial.pk}/peer-to-peer", {"result": "x"}).status_code == 404
    auth.refresh_from_db()
    denial.refresh_from_db()
    assert auth.status == status and denial.peer_to_peer_result == ""


def test_the_peer_to_peer_result_is_recorded_from_the_stay_page(cm, stay, web_as):
    auth = services.authorization_add(actor=cm, stay_id=stay.pk, payer_name="Acme", status="approved")
    denial = services.denial_record(actor=cm, authorization_id=auth.pk, reason="Observation appropriate")
    web = web_as(cm)
    assert "Record peer-to-peer" in web.get(f"/hospital/stays/{stay.pk}/").content.decode()

    blank = web.post(f"/hospital/denials/{denial.pk}/peer-to-peer", {"result": "  "})
    assert blank.status_code == 422
    ok = web.post(f"/hospital/denials/{denial.pk}/peer-to-peer", {"result": "Medical director agreed: 2 days"})

    assert ok.status_code == 302
    denial.refresh_from_db()
    assert denial.peer_to_peer_result == "Medical director agreed: 2 days" and denial.peer_to_peer_at is not None
    page = web.get(f"/hospital/stays/{stay.pk}/").content.decode()
    assert "Peer-to-peer: Medical director agreed: 2 days" in page and "Record peer-to-peer" not in page
