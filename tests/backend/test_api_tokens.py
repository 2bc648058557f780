"""Personal API tokens: issue 8."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.models import ApiToken, User
from backend.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _in(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def _create(client, name="ci", days=30):
    response = client.post("/api/auth/tokens/", {"name": name, "expires_at": _in(days)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _bearer(raw: str) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_create_use_and_list_shows_prefix_only(client_for):
    alice = client_for("alice")
    created = _create(alice)
    raw = created["token"]
    assert raw.startswith("bat_")
    assert len(raw) == 44
    assert created["prefix"] == raw[:8]
    assert created["active"] is True

    me = _bearer(raw).get("/api/auth/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    listing = alice.get("/api/auth/tokens/")
    assert listing.status_code == 200
    assert raw not in listing.content.decode()
    (item,) = listing.json()["results"]
    assert item["prefix"] == raw[:8]
    assert "token" not in item
    assert item["last_used_at"] is not None
    # Other users never see alice's tokens.
    assert client_for("bob").get("/api/auth/tokens/").json()["results"] == []


def test_token_requests_skip_csrf_and_can_write(client_for, support_workflow):
    raw = _create(client_for("alice"))["token"]
    client = _bearer(raw)
    response = client.post("/api/workflows/", {"name": "Made with a token"}, format="json")
    assert response.status_code == 201, response.json()
    revision = client.get(f"/api/workflows/{support_workflow.id}/").json()["revision"]
    saved = client.patch(
        f"/api/workflows/{support_workflow.id}/", {"name": "Renamed", "revision": revision}, format="json"
    )
    assert saved.status_code == 200


def test_token_keeps_the_users_permissions(client_for, support_workflow):
    raw = _create(client_for("bob"))["token"]
    assert _bearer(raw).get(f"/api/workflows/{support_workflow.id}/").status_code == 404
    assert _bearer(raw).get("/api/users/").status_code == 403


def test_stored_hashed_never_raw(client_for):
    raw = _create(client_for("alice"))["token"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    dump = repr(rows)
    assert raw not in dump
    assert raw[8:] not in dump
    import hashlib

    assert hashlib.sha256(raw.encode()).hexdigest() in dump
    assert raw not in repr(list(AuditEvent.objects.values_list("data", flat=True)))


def test_revoke(client_for):
    alice = client_for("alice")
    created = _create(alice)
    client = _bearer(created["token"])
    assert client.get("/api/auth/me/").status_code == 200
    assert client_for("bob").delete(f"/api/auth/tokens/{created['id']}/").status_code == 404
    assert alice.delete(f"/api/auth/tokens/{created['id']}/").status_code == 204
    response = client.get("/api/auth/me/")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "NOT_AUTHENTICATED",
        "message": "This API token has been revoked.",
    }
    item = alice.get("/api/auth/tokens/").json()["results"][0]
    assert item["revoked_at"] is not None
    assert item["active"] is False
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_expired_token_is_401(client_for):
    created = _create(client_for("alice"))
    ApiToken.objects.filter(id=created["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _bearer(created["token"]).get("/api/auth/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"
    assert "expired" in response.json()["error"]["message"]


def test_inactive_user_token_is_401(client_for):
    created = _create(client_for("alice"))
    User.objects.filter(username="alice").update(is_active=False)
    response = _bearer(created["token"]).get("/api/auth/me/")
    assert response.status_code == 401
    assert "deactivated" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer bat_nope",
        "Bearer",
        "Bearer a b",
        "Bearer not-a-baton-token",
        "Bearer bat_" + "x" * 200,
        "Bearer bat_\xff",
    ],
)
def test_bad_tokens_are_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/auth/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


@pytest.mark.parametrize("days", [-1, 0, 366])
def test_expiry_must_be_within_365_days(client_for, days):
    response = client_for("alice").post(
        "/api/auth/tokens/", {"name": "x", "expires_at": _in(days)}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "TOKEN_EXPIRY_INVALID"


def test_expiry_is_required(client_for):
    response = client_for("alice").post("/api/auth/tokens/", {"name": "x"}, format="json")
    assert response.status_code == 400


def test_a_token_cannot_mint_tokens(client_for):
    raw = _create(client_for("alice"))["token"]
    response = _bearer(raw).post("/api/auth/tokens/", {"name": "y", "expires_at": _in(10)}, format="json")
    assert response.status_code == 403
