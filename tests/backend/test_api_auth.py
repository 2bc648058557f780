from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backend.audit.models import AuditEvent
from tests.backend.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_with_wrong_password_gets_401_with_code(personas):
    response = APIClient().post("/api/auth/login/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 1


def test_login_me_logout_roundtrip(personas):
    client = APIClient()
    response = client.post("/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "builder"
    assert client.get("/api/auth/me/").json()["username"] == "alice"
    assert client.post("/api/auth/logout/").status_code == 204
    me = client.get("/api/auth/me/")
    assert me.status_code == 401
    assert me.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_login_requires_csrf_token(personas):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    token = client.get("/api/auth/csrf/").json()["csrf_token"]
    response = client.post(
        "/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200


def test_login_with_malformed_json_is_400(personas):
    response = APIClient().post("/api/auth/login/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PARSE_ERROR"


def test_health_needs_no_sign_in(db):
    body = APIClient().get("/api/health/").json()
    assert body["status"] == "ok"
    assert body["mode"] in {"embedded", "production"}


def test_unknown_api_path_is_json_404(db):
    response = APIClient().get("/api/nope/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_schema_is_served(client_for):
    response = client_for("alice").get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/workflows/" in response.content
