"""LACE and HOSPITAL computed from a patient's record, with every component's points and source."""

import datetime as dt

from casebridge.hospital import services
from casebridge.hospital.models import HospitalStay
from casebridge.patients.services import contact_add

from .conftest import admit, at, condition, lab


def component(score, key):
    return next(c for c in score["components"] if c["key"] == key)


def test_worked_example_scores_every_component_from_the_record(cm, patient, drg_table):
    # History: one ED visit in January (counts for LACE E); two admissions in the last 12 months (HOSPITAL A).
    admit(
        cm,
        patient,
        when=at(1, 2).replace(month=1, day=15),
        klass="emergency",
        status="finished",
        discharge=at(1, 8).replace(month=1, day=15),
        case=False,
    )
    admit(
        cm,
        patient,
        when=at(1, 9).replace(year=2025, month=11),
        status="finished",
        discharge=at(4, 9).replace(year=2025, month=11),
        case=False,
    )
    admit(
        cm,
        patient,
        when=at(1, 9).replace(year=2025, month=6),
        status="finished",
        discharge=at(3, 9).replace(year=2025, month=6),
        case=False,
    )
    # The ED visit that led to this admission: makes it emergent, and is not counted among prior ED visits.
    admit(cm, patient, when=at(10, 3), klass="emergency", status="finished", discharge=at(10, 8), case=False)
    encounter = admit(cm, patient, when=at(10, 8))
    condition(encounter, "I50.9", "Heart failure")  # CHF 1
    condition(encounter, "E11.22", "T2DM with diabetic CKD", on_encounter=False)  # diabetes w complications 2
    condition(encounter, "N18.3", "CKD 3", on_encounter=False)  # renal 2 -> Charlson 5
    lab(encounter, "718-7", 10.9, "g/dL", at(12, 6))
    lab(encounter, "718-7", 12.4, "g/dL", at(10, 9))  # older result: the latest one counts
    lab(encounter, "2951-2", 132, "mmol/L", at(12, 6))
    stay = services.stay_open(actor=cm, encounter_id=encounter.pk)
    services.stay_update(
        actor=cm, stay_id=stay.pk, expected_discharge_on=dt.date(2026, 3, 15), discharge_service="medicine"
    )
    stay.refresh_from_db()
    lace, hospital = stay.risk_detail["lace"], stay.risk_detail["hospital"]

    # LACE: L 5 days -> 4; A emergent -> 3; C Charlson 5 -> 5; E 1 ED visit -> 1; total 13, high.
    assert [(c["key"], c["points"]) for c in lace["components"]] == [("L", 4), ("A", 3), ("C", 5), ("E", 1)]
    assert (lace["total"], lace["band"]) == (13, "high")
    assert "expected discharge 03/15" in component(lace, "L")["source"]
    assert "led to the admission" in component(lace, "A")["source"]
    assert "E11.22" in component(lace, "C")["source"] and "I50.9" in component(lace, "C")["source"]
    assert component(lace, "E")["value"] == 1

    # HOSPITAL: Hgb 10.9 -> 1; oncology no -> 0; Na 132 -> 1; no procedure (documented stay) -> 0;
    # urgent -> 1; 2 admissions -> 2; LOS 5 -> 2; total 7, high.
    assert [(c["key"], c["points"]) for c in hospital["components"]] == [
        ("H", 1),
        ("O", 0),
        ("S", 1),
        ("P", 0),
        ("I", 1),
        ("A", 2),
        ("L", 2),
    ]
    assert (hospital["total"], hospital["band"]) == (7, "high")
    assert component(hospital, "H")["value"] == 10.9
    assert component(hospital, "H")["source"].startswith("Observation ")
    assert stay.lace_total == 13 and stay.hospital_total == 7 and stay.risk_band == "high"
    assert stay.risk_detail["charlson"]["total"] == 5


def test_missing_inputs_are_reported_missing_never_zero(cm, make_patient, drg_table):
    lonely = make_patient(family_name="Nobody", mrn="MRN-9")
    encounter = admit(cm, lonely, when=at(11, 14))  # no history, no ED, no diagnoses, no labs
    stay = services.stay_open(actor=cm, encounter_id=encounter.pk)
    lace, hospital = stay.risk_detail["lace"], stay.risk_detail["hospital"]

    assert lace["missing"] == ["A", "C", "E"]
    assert lace["total"] is None and lace["band"] is None
    for key in ("A", "C", "E"):
        assert component(lace, key)["points"] is None and component(lace, key)["missing"] is True
    assert component(lace, "L")["points"] == 1  # admitted yesterday: 1 day so far
    assert lace["possible_range"] == [1, 1 + 3 + 5 + 4]
    assert component(lace, "C")["source"] == "no coded diagnoses on record"
    assert set(hospital["missing"]) == {"H", "O", "S", "P", "I", "A"}
    assert hospital["total"] is None
    assert stay.risk_band == "unknown" and stay.lace_total is None


def test_risk_is_recomputed_when_the_record_changes(cm, patient, drg_table, django_capture_on_commit_callbacks):
    encounter = admit(cm, patient, when=at(11, 14), admission_source={"code": "emd"})
    stay = services.stay_open(actor=cm, encounter_id=encounter.pk)
    assert component(stay.risk_detail["lace"], "C")["missing"] is True

    with django_capture_on_commit_callbacks(execute=True):
        condition(encounter, "C78.00", "Secondary malignant neoplasm of lung")  # metastatic: Charlson 6

    stay = HospitalStay.objects.get(pk=stay.pk)
    lace_c = component(stay.risk_detail["lace"], "C")
    assert (lace_c["value"], lace_c["points"]) == (6, 5)


def test_early_screen_flags_lives_alone_and_opens_the_evaluation_with_a_task(cm, patient, drg_table):
    contact_add(actor=cm, patient_id=patient.pk, name="Sam Rivera", relationship="child", lives_with_patient=False)
    encounter = admit(cm, patient, when=at(11, 14))
    stay = services.stay_open(actor=cm, encounter_id=encounter.pk)
    plan = stay.discharge_plan
    assert plan.screen_flags["lives_alone"]["value"] is True
    assert plan.screen_flags["high_readmission_risk"]["value"] is None  # scores incomplete: unknown, not "no"
    assert plan.evaluation_status == "required"
    assert "lives alone" in plan.evaluation_reason
    assert plan.evaluation_task is not None and plan.evaluation_task.case_id == encounter.hospital_case_id
