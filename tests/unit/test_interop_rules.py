"""Pure rules of the import: encounter classes, code matching, admission policy, input sniffing."""

from __future__ import annotations

import datetime as dt
import json
import sys

from casebridge.clinical import admissions
from casebridge.clinical.coding import code_matches, codings_of, encounter_class_of, encounter_class_of_v2, primary
from casebridge.interop.fhir import importer
from casebridge.interop.fhir.references import collect_references, collect_references_in_text, split_reference
from casebridge.interop.fhir.sources import json_error, sniff_binary, type_from_name
from casebridge.interop.fhir.values import state_code, zip_code


def test_v3_actcode_and_synthea_codes_map_to_encounter_classes():
    assert [encounter_class_of(c) for c in ("IMP", "EMER", "OBSENC", "HH", "AMB", "VR", "ZZZ", None)] == [
        "inpatient",
        "emergency",
        "observation",
        "home_health",
        "ambulatory",
        "virtual",
        "other",
        "other",
    ]
    assert encounter_class_of("inpatient") == "inpatient" and encounter_class_of("urgentcare") == "ambulatory"
    assert encounter_class_of_v2("I") == "inpatient" and encounter_class_of_v2("E") == "emergency"


def test_codes_are_kept_as_coded_and_icd10_preferred():
    concept = {
        "coding": [
            {"system": "http://snomed.info/sct", "code": "84114007"},
            {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I50.9", "display": "HF"},
        ]
    }
    assert primary(codings_of(concept))["code"] == "I50.9"
    assert codings_of({"text": "free text"}) == [{"system": "", "code": "", "display": "free text"}]


def test_icd10_categories_match_by_prefix_and_snomed_exactly():
    assert code_matches("I50.9", ["I50"]) and code_matches("I509", ["i50.9"])
    assert not code_matches("J44.1", ["I50"])
    assert code_matches("44054006", ["44054006"]) and not code_matches("440540061", ["44054006"])


def test_admission_policy_opens_only_current_admissions_of_chosen_classes():
    every = admissions.AdmissionPolicy(mode=admissions.EVERY_ADMISSION)
    args = {"encounter_class": "inpatient", "status": "in-progress", "discharged": False, "codes": []}
    assert admissions.should_open_case(every, **args)
    assert not admissions.should_open_case(every, **{**args, "status": "finished"})
    assert not admissions.should_open_case(every, **{**args, "encounter_class": "emergency"})
    assert not admissions.should_open_case(admissions.AdmissionPolicy(), **args)
    listed = admissions.AdmissionPolicy(mode=admissions.LISTED_CONDITIONS, condition_codes=("J44",))
    assert admissions.should_open_case(listed, **{**args, "codes": ["J44.1"]})
    assert not admissions.should_open_case(listed, **args)
    admit = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
    assert admissions.review_due_at(admit, every) == admit + dt.timedelta(hours=24)


def test_input_sniffing_and_json_errors_read_as_sentences():
    assert "binary" in sniff_binary(b"\x00\x01\x02")
    assert "not UTF-8" in sniff_binary(b"\xff\xfe abc" * 3)
    assert sniff_binary('{"a": "é"}'.encode()) is None
    try:
        json.loads('{"resourceType": "Pat')
    except json.JSONDecodeError as exc:
        assert "truncated" in json_error(exc, 20)
    assert type_from_name(__import__("pathlib").Path("Patient.000.ndjson")) == "Patient"


def test_references_split_and_collect():
    assert split_reference("Patient/123") == ("Patient", "123")
    assert split_reference("https://ehr/fhir/Encounter/9/_history/2") == ("Encounter", "9")
    assert split_reference("urn:uuid:abc") is None and split_reference("Practitioner?identifier=a|b") is None
    found: set[str] = set()
    collect_references(
        {"subject": {"reference": "Patient/1"}, "item": [{"encounter": [{"reference": "Encounter/2"}]}]}, found
    )
    assert found == {"Patient/1", "Encounter/2"}


def test_references_read_off_the_text_are_the_ones_a_walk_finds():
    resource = {
        "resourceType": "Procedure",
        "subject": {"reference": "Patient/1", "display": 'Says "reference": "Patient/9"'},
        "note": [{"text": '{"reference":"Encounter/8"}'}],
        "item": [{"encounter": [{"reference": "Encounter/2"}]}, {"reference": 'urn:uuid:a"b\\c'}],
        "performer": [{"actor": {"reference": "Practitioner/x"}, "reference": 7}],
        "location": {"reference": "https://ehr/fhir/Location/5"},
    }
    walked: set[str] = set()
    collect_references(resource, walked)
    assert walked == {"Patient/1", "Encounter/2", 'urn:uuid:a"b\\c', "Practitioner/x", "https://ehr/fhir/Location/5"}
    for text in (
        json.dumps(resource),
        json.dumps(resource, separators=(",", ":"), indent=1, ensure_ascii=False),
        json.dumps(resource).replace("/", "\\/"),  # escaped solidus, as some servers write it
        json.dumps({**resource, "id": "caf\u00e9"}),  # a \\u escape: walked as parsed instead
    ):
        found: set[str] = set()
        collect_references_in_text(text, json.loads(text), found)
        assert found == walked, text
    plain = {"resourceType": "Procedure", "subject": {"reference": "Patient/1"}, "note": [{"text": "a reference"}]}
    found = set()
    collect_references_in_text(json.dumps(plain), None, found)  # read off the text alone: no walk needed
    assert found == {"Patient/1"}


def test_us_addresses_normalize_states_and_zip_codes():
    assert state_code("Massachusetts") == "MA" and state_code("ks") == "KS" and state_code("Bavaria") == ""
    assert zip_code("670358120") == "67035-8120" and zip_code("01581") == "01581" and zip_code("SW1A") == ""
    assert zip_code("٠١٥٨١") == ""  # Arabic-Indic digits are digits to \\d, not to a ZIP code


def test_overlapping_writers_keep_the_short_switch_interval_until_the_last_one_ends():
    """Two imports may write behind at once (two uploads) and end in either order."""
    before = sys.getswitchinterval()
    try:
        importer._writer_started()
        importer._writer_started()
        assert sys.getswitchinterval() == importer.WRITER_SWITCH_INTERVAL
        importer._writer_ended()  # the first import ends; the second still writes
        assert sys.getswitchinterval() == importer.WRITER_SWITCH_INTERVAL
        importer._writer_ended()
        assert sys.getswitchinterval() == before
    finally:
        sys.setswitchinterval(before)
