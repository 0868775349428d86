"""The /fhir/r4 REST API: CapabilityStatement, read, search with paging, $everything, authentication,
organization scoping, audit and OperationOutcome errors."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import test_fhir_export_support as support
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.interop.fhir_api.registry import served_types
from casebridge.interop.fhir_export import ids

agency = support.agency
demo_case = support.demo_case

FHIR_JSON = "application/fhir+json"
BASE = "/fhir/r4"


def _get(client: Client, url: str, **headers):
    response = client.get(url, **headers)
    assert response["Content-Type"] == FHIR_JSON, (url, response.status_code, response.content[:200])
    return response


def _outcome(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == FHIR_JSON
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    get_fhir_model_class("OperationOutcome").model_validate(body)
    return body


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


@pytest.fixture
def hospital_client(api_as, cm) -> Client:
    return api_as(cm)


# --- metadata -----------------------------------------------------------------------------------


def test_metadata_is_a_valid_capability_statement_of_the_served_types(client):
    response = _get(client, f"{BASE}/metadata")
    assert response.status_code == 200
    statement = response.json()
    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    rest = statement["rest"][0]
    listed = {r["type"] for r in rest["resource"]}
    assert {"Patient", "EpisodeOfCare", "CarePlan", "CareTeam", "Goal", "Task", "Coverage"} <= listed
    assert listed == {t.name for t in served_types()}
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert patient["operation"][0]["name"] == "everything"
    for resource in rest["resource"]:
        assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]
        assert {"_id", "_lastUpdated", "identifier"} <= {p["name"] for p in resource["searchParam"]}


def test_the_base_url_hands_transaction_and_batch_bundles_to_the_importer(client, hospital_client):
    interactions = {i["code"] for i in client.get(f"{BASE}/metadata").json()["rest"][0]["interaction"]}
    assert interactions == {"transaction", "batch"}
    response = hospital_client.post(BASE, data={"resourceType": "Bundle", "type": "batch"}, content_type=FHIR_JSON)
    assert response.status_code == 200 and response.json()["type"] == "batch-response"
    _outcome(client.post(BASE, data={"resourceType": "Bundle", "type": "batch"}, content_type=FHIR_JSON), 401)
    assert _outcome(hospital_client.delete(BASE), 405) and hospital_client.delete(BASE)["Allow"] == "GET, POST"
    assert hospital_client.get(BASE).status_code == 302


def _value_for(param: dict, resource: dict, patient_id: str) -> str:
    """A search value that must find ``resource`` for the listed parameter."""
    name = param["name"]
    if name == "_id":
        return resource["id"]
    if name == "_lastUpdated":
        return "ge2000-01-01"
    if name == "identifier":
        ident = next(i for i in resource["identifier"] if i["system"].startswith("urn:casebridge:id:"))
        return f"{ident['system']}|{ident['value']}"
    if param["type"] == "reference":
        return f"Patient/{patient_id}"
    for element in ("status", "lifecycleStatus"):
        if element in resource:
            return resource[element]
    return resource["clinicalStatus"]["coding"][0]["code"]


def test_every_interaction_the_capability_statement_lists_answers(client, hospital_client, demo_case):
    """Built from the same registry as the router: each listed read, search parameter and operation works."""
    statement = client.get(f"{BASE}/metadata").json()
    patient_id = ids.fhir_id("patient", demo_case.patient.pk)
    for listed in statement["rest"][0]["resource"]:
        rtype = listed["type"]
        found = _get(
            hospital_client,
            f"{BASE}/{rtype}?patient={patient_id}" if rtype != "Patient" else f"{BASE}/{rtype}?_id={patient_id}",
        )
        assert found.status_code == 200, rtype
        entries = found.json().get("entry", [])
        if rtype in ("Encounter", "Condition") and not entries:
            continue  # no clinical records in this fixture
        assert entries, rtype
        resource = entries[0]["resource"]
        assert _get(hospital_client, f"{BASE}/{rtype}/{resource['id']}").json() == resource
        for param in listed["searchParam"]:
            value = _value_for(param, resource, patient_id)
            response = _get(hospital_client, f"{BASE}/{rtype}", data={param["name"]: value})
            assert response.status_code == 200, (rtype, param["name"], response.content[:300])
            assert resource["id"] in [e["resource"]["id"] for e in response.json().get("entry", [])], (rtype, param)
        for operation in listed.get("operation", []):
            response = _get(hospital_client, f"{BASE}/{rtype}/{resource['id']}/${operation['name']}")
            assert response.status_code == 200
    for interaction in statement["rest"][0].get("interaction", []):
        assert interaction["code"] in ("transaction", "batch")
        response = hospital_client.post(
            BASE, data={"resourceType": "Bundle", "type": interaction["code"], "entry": []}, content_type=FHIR_JSON
        )
        assert response.status_code != 405


# --- read ---------------------------------------------------------------------------------------


def test_read_returns_the_validated_resource_and_audits_it_with_the_patient(hospital_client, demo_case):
    pk = demo_case.case.pk
    response = _get(hospital_client, f"{BASE}/EpisodeOfCare/casebridge-case-{pk}")
    assert response.status_code == 200
    episode = response.json()
    get_fhir_model_class("EpisodeOfCare").model_validate(episode)
    assert episode["status"] == "active"
    event = AuditEvent.objects.get(action="fhir.read")
    assert event.patient_id == demo_case.patient.pk
    assert event.detail == {"resourceType": "EpisodeOfCare", "id": f"casebridge-case-{pk}"}


def test_read_of_an_unknown_id_or_type_is_a_404_outcome(hospital_client, demo_case):
    _outcome(hospital_client.get(f"{BASE}/Patient/casebridge-patient-999999"), 404)
    _outcome(hospital_client.get(f"{BASE}/Patient/casebridge-case-{demo_case.case.pk}"), 404)
    _outcome(hospital_client.get(f"{BASE}/Patient/12"), 404)
    _outcome(hospital_client.get(f"{BASE}/Observation/casebridge-observation-1"), 404)
    _outcome(hospital_client.get(f"{BASE}/Frobnicate"), 404)
    _outcome(hospital_client.get(f"{BASE}/Patient/x/y/z"), 404)


def test_methods_the_api_does_not_offer_are_405(hospital_client, demo_case):
    url = f"{BASE}/Patient/casebridge-patient-{demo_case.patient.pk}"
    body = _outcome(hospital_client.delete(url), 405)
    assert body["issue"][0]["code"] == "not-supported"
    _outcome(hospital_client.put(url, data="{}", content_type=FHIR_JSON), 405)
    _outcome(hospital_client.post(f"{BASE}/Patient", data="{}", content_type=FHIR_JSON), 405)


# --- authentication, permission, scoping --------------------------------------------------------


def test_without_a_valid_token_every_data_endpoint_is_401(client, demo_case):
    for url in (f"{BASE}/Patient", f"{BASE}/Patient/casebridge-patient-{demo_case.patient.pk}",
                f"{BASE}/Patient/casebridge-patient-{demo_case.patient.pk}/$everything"):  # fmt: skip
        response = client.get(url)
        _outcome(response, 401)
        assert response["WWW-Authenticate"] == "Bearer"
        _outcome(client.get(url, HTTP_AUTHORIZATION="Bearer not-a-token"), 401)
    assert not AuditEvent.objects.filter(action__startswith="fhir.").exists()


def test_a_role_without_clinical_access_is_403(api_as, make_actor, hospital, demo_case):
    auditor = api_as(make_actor(hospital, roles.AUDITOR, username="aud"))
    _outcome(auditor.get(f"{BASE}/Patient"), 403)
    _outcome(auditor.get(f"{BASE}/Patient/casebridge-patient-{demo_case.patient.pk}"), 403)


def test_another_organization_gets_404_on_read_and_nothing_in_search(api_as, outsider, demo_case):
    other = api_as(outsider)
    for rtype, kind, pk in (
        ("Patient", "patient", demo_case.patient.pk),
        ("EpisodeOfCare", "case", demo_case.case.pk),
        ("CareTeam", "careteam", demo_case.case.pk),
        ("CarePlan", "careplan", demo_case.plan.pk),
        ("Goal", "goal", demo_case.goal.pk),
        ("Task", "task", demo_case.task.pk),
        ("Coverage", "coverage", demo_case.coverage.pk),
    ):
        _outcome(other.get(f"{BASE}/{rtype}/{ids.fhir_id(kind, pk)}"), 404)
        bundle = _get(other, f"{BASE}/{rtype}").json()
        assert bundle["total"] == 0 and "entry" not in bundle, rtype
        bundle = _get(other, f"{BASE}/{rtype}", data={"_id": ids.fhir_id(kind, pk)}).json()
        assert bundle["total"] == 0, rtype
    _outcome(other.get(f"{BASE}/Patient/casebridge-patient-{demo_case.patient.pk}/$everything"), 404)
    assert not AuditEvent.objects.filter(action__in=["fhir.read", "patient.export"]).exists()


def test_a_care_team_organization_reads_the_shared_case_only(api_as, make_actor, make_patient, cm, demo_case):
    from casebridge.cases.services import case_open

    hidden = make_patient(family_name="Hidden", given_name="Hal", mrn="MRN-H")
    case_open(actor=cm, patient_id=hidden.pk, case_type="hospital_stay")
    agency_client = api_as(make_actor(demo_case.agency, roles.CASE_MANAGER, username="agencycm"))
    assert agency_client.get(f"{BASE}/EpisodeOfCare/casebridge-case-{demo_case.case.pk}").status_code == 200
    bundle = _get(agency_client, f"{BASE}/Patient").json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == [f"casebridge-patient-{demo_case.patient.pk}"]


# --- search -------------------------------------------------------------------------------------


def test_count_gives_next_links_that_walk_every_result_once(hospital_client, make_patient, patient):
    for i in range(6):
        make_patient(family_name=f"Page{i}", given_name="Pat", mrn=f"MRN-P{i}")
    first = _get(hospital_client, f"{BASE}/Patient", data={"_count": "2"}).json()
    assert first["total"] == 7
    seen: list[str] = []
    bundle = first
    pages = 0
    while True:
        pages += 1
        assert len(bundle.get("entry", [])) <= 2
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert "self" in links
        if "next" not in links:
            break
        bundle = _get(hospital_client, _path(links["next"])).json()
        assert bundle["total"] == 7
    assert pages == 4
    assert len(seen) == len(set(seen)) == 7


def test_next_links_keep_the_search_criteria(hospital_client, make_patient, patient):
    for i in range(3):
        make_patient(family_name=f"Keep{i}", given_name="Pat", mrn=f"MRN-K{i}")
    bundle = _get(hospital_client, f"{BASE}/Patient", data={"_count": "1", "_lastUpdated": "ge2000-01-01"}).json()
    next_url = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    assert "_lastUpdated=ge2000-01-01" in next_url and "_count=1" in next_url and "_offset=1" in next_url


def test_search_by_status_patient_identifier_and_last_updated(hospital_client, cm, demo_case, make_patient):
    from casebridge.cases.services import case_open

    other = make_patient(family_name="Stone", given_name="Eli", mrn="MRN-2")
    referral = case_open(actor=cm, patient_id=other.pk, case_type="home_health")

    def found(rtype: str, **params) -> list[str]:
        response = _get(hospital_client, f"{BASE}/{rtype}", data=params)
        assert response.status_code == 200, response.content[:300]
        return [e["resource"]["id"] for e in response.json().get("entry", [])]

    case_id, referral_id = f"casebridge-case-{demo_case.case.pk}", f"casebridge-case-{referral.pk}"
    assert found("EpisodeOfCare", status="active") == [case_id]
    assert found("EpisodeOfCare", status="planned") == [referral_id]
    assert found("EpisodeOfCare", status="planned,active") == [case_id, referral_id]
    assert found("EpisodeOfCare", patient=f"Patient/casebridge-patient-{other.pk}") == [referral_id]
    assert found("EpisodeOfCare", identifier=f"urn:casebridge:id:case|{referral.pk}") == [referral_id]
    assert found("EpisodeOfCare", identifier=f"urn:other|{referral.pk}") == []
    assert found("EpisodeOfCare", _lastUpdated="ge2100-01-01") == []
    assert found("EpisodeOfCare", _lastUpdated="le2100-01-01") == [case_id, referral_id]
    mrn_system = f"urn:casebridge:mrn:organization:{cm.organization_id}"
    assert found("Patient", identifier=f"{mrn_system}|MRN-2") == [f"casebridge-patient-{other.pk}"]
    assert found("Patient", identifier="MRN-1001") == [f"casebridge-patient-{demo_case.patient.pk}"]
    assert found("Coverage", identifier="ACM123456") == [f"casebridge-coverage-{demo_case.coverage.pk}"]
    assert found("Coverage", status="active", beneficiary=f"casebridge-patient-{demo_case.patient.pk}")
    assert found("Goal", **{"lifecycle-status": "active"}) == [f"casebridge-goal-{demo_case.goal.pk}"]
    assert found("Goal", **{"lifecycle-status": "completed"}) == []
    assert found("CareTeam", status="active") == [f"casebridge-careteam-{demo_case.case.pk}"]
    assert found("CarePlan", subject=f"Patient/casebridge-patient-{demo_case.patient.pk}", status="active") == [
        f"casebridge-careplan-{demo_case.plan.pk}"
    ]
    tasks = found("Task", patient=f"Patient/casebridge-patient-{demo_case.patient.pk}", status="ready")
    assert f"casebridge-task-{demo_case.task.pk}" in tasks and len(tasks) == 2


@pytest.mark.parametrize("rtype", ["Patient", "EpisodeOfCare", "CarePlan", "CareTeam", "Goal", "Task", "Coverage",
                                   "Encounter", "Condition"])  # fmt: skip
def test_identifier_numbers_are_ascii_digits_within_a_row_id(hospital_client, demo_case, rtype):
    """CaseBridge's own identifiers are row ids: "²" passed str.isdigit() and then int() refused it (a
    500 on every type); Arabic-Indic digits, which int() reads, named a record; a number past bigint
    names none, and neither does an organization number past bigint in an identifier system."""
    own = {"Patient": demo_case.patient.pk, "EpisodeOfCare": demo_case.case.pk, "Goal": demo_case.goal.pk}
    arabic = str(own.get(rtype, 1)).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    huge = "9" * 30
    for value in ("²", arabic, huge, f"urn:casebridge:mrn:organization:{huge}|MRN-1001",
                  f"urn:casebridge:member-id:organization:{huge}|ACM123456"):  # fmt: skip
        response = _get(hospital_client, f"{BASE}/{rtype}", data={"identifier": value})
        assert response.status_code == 200, (value, response.content[:300])
        assert response.json()["total"] == 0, value
    if rtype in own:  # the same number in ASCII digits finds it
        assert _get(hospital_client, f"{BASE}/{rtype}", data={"identifier": str(own[rtype])}).json()["total"] == 1


def test_post_search_is_the_same_search(hospital_client, demo_case):
    get = _get(hospital_client, f"{BASE}/EpisodeOfCare", data={"status": "active"}).json()
    post = hospital_client.post(f"{BASE}/EpisodeOfCare/_search", data={"status": "active"})
    assert post.status_code == 200
    assert [e["resource"]["id"] for e in post.json()["entry"]] == [e["resource"]["id"] for e in get["entry"]]


@pytest.mark.parametrize(
    "rtype, params",
    [
        ("EpisodeOfCare", {"status": "bogus"}),
        ("EpisodeOfCare", {"_lastUpdated": "yesterday"}),
        ("EpisodeOfCare", {"_lastUpdated": "ap2024-01-01"}),
        ("EpisodeOfCare", {"_lastUpdated": "ge٢٠٢٤-01-01"}),  # \\d matched these digits, and int() read them
        ("EpisodeOfCare", {"patinet": "Patient/casebridge-patient-1"}),
        ("EpisodeOfCare", {"patient": "Group/1"}),
        ("EpisodeOfCare", {"status:not": "active"}),
        ("Patient", {"_count": "0"}),
        ("Patient", {"_count": "many"}),
        ("Patient", {"_count": "²"}),  # str.isdigit() says yes, int() no: it was a 500
        ("Patient", {"_offset": "²"}),
        ("Patient", {"_count": "9" * 5000}),  # past the digits int() reads from text: it was a 500
        ("Patient", {"_offset": "9" * 5000}),
        ("Patient", {"patient": "Patient/casebridge-patient-1"}),
        ("Goal", {"lifecycle-status": "done"}),
        ("Task", {"status": ""}),
        # PostgreSQL refuses NUL even in a comparison: without the parser's check these were 500s there.
        ("Patient", {"identifier": "\x00"}),
        ("Patient", {"identifier": "urn:oid:1.2|MRN\x00"}),
        ("Coverage", {"identifier": "a,b\x00"}),
    ],
)
def test_bad_search_parameters_are_a_400_outcome_that_names_them(hospital_client, demo_case, rtype, params):
    body = _outcome(hospital_client.get(f"{BASE}/{rtype}", data=params), 400)
    assert next(iter(params)).split(":")[0] in body["issue"][0]["diagnostics"]
    assert not AuditEvent.objects.filter(action="fhir.search").exists()


def test_lenient_handling_ignores_unknown_parameters(hospital_client, demo_case):
    response = _get(hospital_client, f"{BASE}/EpisodeOfCare", data={"patinet": "x"}, HTTP_PREFER="handling=lenient")
    assert response.status_code == 200
    assert response.json()["total"] == 1


def test_search_audits_one_event_per_patient_returned(hospital_client, demo_case, make_patient):
    make_patient(family_name="Stone", given_name="Eli", mrn="MRN-2")
    _get(hospital_client, f"{BASE}/Patient", data={"_count": "1"})
    events = list(AuditEvent.objects.filter(action="fhir.search"))
    assert [e.patient_id for e in events] == [demo_case.patient.pk]
    assert events[0].detail["resourceType"] == "Patient" and events[0].detail["total"] == 2


# --- $everything --------------------------------------------------------------------------------


def test_everything_returns_the_patients_records_as_a_searchset_and_audits_an_export(hospital_client, demo_case):
    url = f"{BASE}/Patient/casebridge-patient-{demo_case.patient.pk}/$everything"
    response = _get(hospital_client, url)
    assert response.status_code == 200
    bundle = response.json()
    get_fhir_model_class("Bundle").model_validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == len(bundle["entry"])
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= support.CASE_TYPES
    assert all(e["fullUrl"].startswith("http://testserver/fhir/r4/") for e in bundle["entry"])
    event = AuditEvent.objects.get(action="patient.export")
    assert event.patient_id == demo_case.patient.pk and event.detail["operation"] == "$everything"
