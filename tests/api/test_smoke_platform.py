import json


def test_token_then_create_and_read_patient(cm, api_as):
    api = api_as(cm)
    r = api.post(
        "/api/v1/patients",
        json.dumps({"family_name": "Lee", "given_name": "Min", "birth_date": "1960-01-02", "mrn": "A1"}),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    r = api.get(f"/api/v1/patients/{pid}")
    assert r.status_code == 200
    assert r.json()["identifiers"][0]["value"] == "A1"


def test_openapi_document_is_served(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/patients" in r.json()["paths"]
