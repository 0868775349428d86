from django.test import override_settings


@override_settings(DOCUMENT_MAX_BYTES=1024, DATA_UPLOAD_MAX_MEMORY_SIZE=2048)
def test_an_oversized_body_is_refused_before_it_is_read(client, db):
    body = b"x" * (3 * 1024 * 1024)
    response = client.generic("POST", "/api/v1/patients", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert "limit" in response.json()["detail"]


@override_settings(DOCUMENT_MAX_BYTES=1024, DATA_UPLOAD_MAX_MEMORY_SIZE=2048)
def test_an_oversized_page_upload_gets_a_plain_413(client, db):
    response = client.generic(
        "POST", "/patients/new", b"x" * (3 * 1024 * 1024), content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 413
