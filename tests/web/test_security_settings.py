"""Production refuses unsafe settings; no page pulls assets from the internet."""

import os
import re
import subprocess
import sys

import pytest

EXTERNAL_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']\s*(?:https?:)?//""", re.IGNORECASE)


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "CASEBRIDGE_ENV", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "-c", "import casebridge.config.settings"],
        env={**clean, **env, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    "secret",
    [None, "casebridge-development-key-not-for-production", "short"],
    ids=["missing", "the development default", "too short"],
)
def test_production_refuses_to_start_without_a_real_secret_key(secret, tmp_path):
    env = {"CASEBRIDGE_ENV": "production", "CASEBRIDGE_DATA_DIR": str(tmp_path)}
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = _import_settings(env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_long_random_secret_and_secure_cookies(tmp_path):
    env = {
        "CASEBRIDGE_ENV": "production",
        "SECRET_KEY": "x" * 20 + "y7Qp0r9s8t7u6v5w4",
        "CASEBRIDGE_DATA_DIR": str(tmp_path),
    }
    probe = (
        "import casebridge.config.settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.DEBUG)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**clean, **env, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.split() == ["True", "True", "True", "False"], result.stderr


@pytest.mark.parametrize("path", ["/login/", "/api/v1/docs"])
def test_pages_load_no_asset_from_the_internet(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    assert not EXTERNAL_ASSET.search(response.content.decode())


def test_signed_in_pages_load_no_asset_from_the_internet(cm, patient, web_as):
    web = web_as(cm)
    for path in ["/patients/", f"/patients/{patient.pk}/"]:
        html = web.get(path).content.decode()
        assert not EXTERNAL_ASSET.search(html), path
