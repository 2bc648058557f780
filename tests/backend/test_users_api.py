"""Users API (admins), invitations, deactivation: issue 8."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.models import Invitation, User
from backend.audit.models import AuditEvent
from tests.backend.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unusual-passphrase-42"


def test_only_admins_list_and_create_users(client_for):
    listing = client_for("admin").get("/api/users/")
    assert listing.status_code == 200
    names = [u["username"] for u in listing.json()["results"]]
    assert {"admin", "alice", "bob", "rey", "vic", "otto"} <= set(names)
    assert all("password" not in u for u in listing.json()["results"])
    for who in ("alice", "rey", "vic"):
        client = client_for(who)
        assert client.get("/api/users/").status_code == 403
        assert (
            client.post("/api/users/", {"username": "x", "role": "viewer"}, format="json").status_code == 403
        )
        assert client.patch("/api/users/1/", {"role": "admin"}, format="json").status_code == 403


def test_anonymous_gets_401(db):
    assert APIClient().get("/api/users/").status_code == 401


def test_create_with_password_is_active_and_can_sign_in(client_for):
    response = client_for("admin").post(
        "/api/users/",
        {"username": "nina", "email": "nina@example.com", "role": "builder", "password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_active"] is True
    assert body["invite_url"] is None
    assert body["role"] == "builder"
    login = APIClient().post(
        "/api/auth/login/", {"username": "nina", "password": NEW_PASSWORD}, format="json"
    )
    assert login.status_code == 200
    event = AuditEvent.objects.filter(action="user.create").get()
    assert event.data["after"]["username"] == "nina"
    assert NEW_PASSWORD not in str(event.data)


def test_weak_password_is_400_with_details(client_for):
    response = client_for("admin").post(
        "/api/users/", {"username": "nina", "role": "builder", "password": "123"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "PASSWORD_INVALID"
    assert error["details"]
    assert error["details"][0]["field"] == "password"
    assert not User.objects.filter(username="nina").exists()


def test_duplicate_username_is_409(client_for):
    response = client_for("admin").post("/api/users/", {"username": "ALICE", "role": "viewer"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "USERNAME_TAKEN"


def _invite(client_for, username="ivy"):
    response = client_for("admin").post(
        "/api/users/", {"username": username, "role": "reviewer", "queues": ["Support"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_active"] is False
    assert body["invitation_pending"] is True
    assert body["queues"] == ["Support"]
    assert body["invite_url"].startswith("/invite/")
    return body, body["invite_url"].removeprefix("/invite/")


def test_invitation_is_accepted_once_with_csrf(client_for):
    body, token = _invite(client_for)
    invitation = Invitation.objects.get(user_id=body["id"])
    assert token not in invitation.token_hash
    assert len(invitation.token_hash) == 64
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    # Inactive until accepted.
    assert (
        APIClient().post("/api/auth/login/", {"username": "ivy", "password": "x"}, format="json").status_code
        == 401
    )

    client = APIClient(enforce_csrf_checks=True)
    refused = client.post(
        "/api/auth/invitations/accept/", {"token": token, "password": NEW_PASSWORD}, format="json"
    )
    assert refused.status_code == 403
    csrf = client.get("/api/auth/csrf/").json()["csrf_token"]
    weak = client.post(
        "/api/auth/invitations/accept/",
        {"token": token, "password": "ivy"},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert weak.status_code == 400
    assert weak.json()["error"]["code"] == "PASSWORD_INVALID"
    ok = client.post(
        "/api/auth/invitations/accept/",
        {"token": token, "password": NEW_PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert ok.status_code == 200, ok.json()
    assert User.objects.get(username="ivy").is_active
    again = client.post(
        "/api/auth/invitations/accept/",
        {"token": token, "password": NEW_PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "INVITATION_INVALID"
    login = APIClient().post("/api/auth/login/", {"username": "ivy", "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200


@pytest.mark.parametrize("case", ["empty", "unknown", "expired"])
def test_bad_invitation_tokens_are_400(client_for, case):
    body, token = _invite(client_for)
    if case == "empty":
        token = ""
    elif case == "unknown":
        token = token[::-1]
    else:
        Invitation.objects.filter(user_id=body["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = APIClient().post(
        "/api/auth/invitations/accept/", {"token": token, "password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVITATION_INVALID"
    assert not User.objects.get(id=body["id"]).is_active


def test_deactivation_ends_sign_in_and_sessions(client_for, personas):
    bob = APIClient()
    assert (
        bob.post("/api/auth/login/", {"username": "bob", "password": PASSWORD}, format="json").status_code
        == 200
    )
    assert bob.get("/api/auth/me/").status_code == 200
    response = client_for("admin").patch(
        f"/api/users/{personas['bob'].id}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert bob.get("/api/auth/me/").status_code == 401
    again = APIClient().post("/api/auth/login/", {"username": "bob", "password": PASSWORD}, format="json")
    assert again.status_code == 401
    event = AuditEvent.objects.filter(action="user.update").get()
    assert event.data["before"]["is_active"] is True
    assert event.data["after"]["is_active"] is False


def test_deactivating_an_invited_user_kills_the_invitation(client_for):
    body, token = _invite(client_for)
    client_for("admin").patch(f"/api/users/{body['id']}/", {"is_active": False}, format="json")
    response = APIClient().post(
        "/api/auth/invitations/accept/", {"token": token, "password": NEW_PASSWORD}, format="json"
    )
    assert response.json()["error"]["code"] == "INVITATION_INVALID"


def test_role_display_name_and_queues_change_with_audit(client_for, personas):
    response = client_for("admin").patch(
        f"/api/users/{personas['vic'].id}/",
        {"role": "reviewer", "display_name": "Vic V.", "queues": ["Support", "Billing"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["role"] == "reviewer"
    assert body["display_name"] == "Vic V."
    assert body["queues"] == ["Billing", "Support"]
    event = AuditEvent.objects.filter(action="user.update").get()
    assert event.data["before"]["role"] == "viewer"
    assert event.data["after"]["role"] == "reviewer"
    bad = client_for("admin").patch(f"/api/users/{personas['vic'].id}/", {"queues": ["Nope"]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "QUEUE_NOT_FOUND"


def test_promote_and_demote_admin(client_for, personas):
    admin = client_for("admin")
    assert admin.patch(f"/api/users/{personas['bob'].id}/", {"role": "admin"}, format="json").json()[
        "is_admin"
    ]
    bob = User.objects.get(username="bob")
    assert bob.is_superuser
    assert bob.is_staff
    demoted = admin.patch(f"/api/users/{bob.id}/", {"role": "builder"}, format="json").json()
    assert demoted["is_admin"] is False
    assert demoted["role"] == "builder"


@pytest.mark.parametrize("change", [{"is_active": False}, {"role": "builder"}])
def test_an_admin_cannot_deactivate_or_demote_themselves(client_for, personas, change):
    response = client_for("admin").patch(f"/api/users/{personas['admin'].id}/", change, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "CANNOT_CHANGE_SELF"
    assert User.objects.get(username="admin").is_admin


def test_unknown_user_is_404(client_for):
    assert (
        client_for("admin").patch("/api/users/999999/", {"role": "viewer"}, format="json").status_code == 404
    )
