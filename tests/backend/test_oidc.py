"""Single sign-on: the whole OpenID Connect code flow against a provider on 127.0.0.1.

Django's test client plays the browser on Baton's side; ``requests`` follows the provider's
authorize redirect; Baton itself talks to the provider's token, JWKS and userinfo endpoints over
real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from backend.accounts.models import User
from backend.accounts.oidc import parse_group_roles
from backend.accounts.services import user_upsert
from backend.audit.models import AuditEvent
from tests.oidc_provider import OpenIdProvider

pytestmark = pytest.mark.django_db

ROLES = "baton-admins=admin,baton-builders=builder,baton-reviewers=reviewer,everyone=viewer"


@pytest.fixture
def op(settings) -> Iterator[OpenIdProvider]:
    with OpenIdProvider() as provider:
        settings.BATON_OIDC_ISSUER = provider.issuer
        settings.BATON_OIDC_CLIENT_ID = provider.client_id
        settings.BATON_OIDC_CLIENT_SECRET = provider.client_secret
        settings.BATON_OIDC_GROUP_ROLES = ROLES
        settings.BATON_OIDC_DEFAULT_ROLE = ""
        yield provider


def start(client: Client, next_path: str = "/workflows") -> str:
    """Baton → provider: returns the provider's redirect back to Baton's callback (path + query)."""
    response = client.get("/api/auth/oidc/authenticate/", {"next": next_path})
    assert response.status_code == 302, response.content
    at_op = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert at_op.status_code == 302, at_op.text
    back = urlsplit(at_op.headers["Location"])
    assert back.path == "/api/auth/oidc/callback/"
    return f"{back.path}?{back.query}"


def sign_in(client: Client, op: OpenIdProvider, **claims: object) -> tuple[int, str]:
    op.user = {
        "sub": "u-1",
        "email": "sam@example.com",
        "name": "Sam Sso",
        "preferred_username": "sam",
        **claims,
    }
    response = client.get(start(client))
    return response.status_code, response.get("Location", "")


def me(client: Client) -> dict:
    response = client.get("/api/auth/me/")
    return response.json() if response.status_code == 200 else {"status": response.status_code}


def test_config_says_sso_is_off_by_default(client):
    body = client.get("/api/auth/config/").json()
    assert body["sso"] == {"enabled": False, "label": "", "login_url": ""}
    assert body["password_login"] is True
    refused = client.get("/api/auth/oidc/authenticate/")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "SSO_DISABLED"


def test_config_offers_the_button_when_configured(client, op):
    body = client.get("/api/auth/config/").json()
    assert body["sso"] == {
        "enabled": True,
        "label": "Sign in with SSO",
        "login_url": "/api/auth/oidc/authenticate/",
    }
    assert op.client_secret not in client.get("/api/auth/config/").content.decode()


def test_full_flow_creates_the_user_with_the_highest_mapped_role(client, op):
    status, location = sign_in(client, op, groups=["everyone", "baton-builders", "unrelated"])
    assert (status, location) == (302, "/workflows")
    user = me(client)
    assert user["username"] == "sam"
    assert user["role"] == "builder"
    assert user["display_name"] == "Sam Sso"
    stored = User.objects.get(username="sam")
    assert stored.oidc_subject == f"{op.issuer} u-1"
    assert not stored.has_usable_password()
    # PKCE and the client secret went to the token endpoint (server-to-server only).
    assert op.token_requests[-1]["code_verifier"]
    event = AuditEvent.objects.filter(action="auth.login").latest("id")
    assert event.actor_id == stored.id
    assert event.data["method"] == "sso"
    assert event.data["role"] == "builder"
    assert event.data["created"] is True


def test_role_follows_the_groups_on_the_next_sign_in(client, op):
    sign_in(client, op, groups=["baton-reviewers"])
    assert me(client)["role"] == "reviewer"
    client.post("/api/auth/logout/")
    second = Client()
    status, _ = sign_in(second, op, groups=["baton-admins", "baton-reviewers"], email="sam@new.example")
    assert status == 302
    user = me(second)
    assert user["role"] == "admin"
    assert User.objects.filter(oidc_subject__isnull=False).count() == 1
    assert User.objects.get(username="sam").email == "sam@new.example"
    event = AuditEvent.objects.filter(action="auth.login").latest("id")
    assert event.data["role_before"] == "reviewer"
    # Demoted at the provider: demoted here at the next sign-in.
    third = Client()
    sign_in(third, op, groups=["everyone"])
    assert me(third)["role"] == "viewer"


def test_no_mapped_group_is_refused_with_a_reason(client, op):
    status, location = sign_in(client, op, groups=["marketing"])
    assert status == 302
    assert location == "/login?sso_error=SSO_NO_ROLE"
    assert me(client).get("status") in (401, 403)
    assert not User.objects.filter(oidc_subject__isnull=False).exists()
    failed = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    assert failed.data["reason"] == "SSO_NO_ROLE"


def test_default_role_lets_ungrouped_users_in(client, op, settings):
    settings.BATON_OIDC_DEFAULT_ROLE = "viewer"
    status, _ = sign_in(client, op, groups=[])
    assert status == 302
    assert me(client)["role"] == "viewer"


def test_users_are_linked_by_subject_not_by_email(client, op):
    local = user_upsert(
        username="sam", password="correct-horse-battery", role=User.Role.ADMIN, email="sam@example.com"
    )
    sign_in(client, op, groups=["everyone"])
    user = me(client)
    assert user["id"] != local.id
    assert user["username"] == "sam-2"
    assert user["role"] == "viewer"
    local.refresh_from_db()
    assert local.role == "admin"


def test_deactivated_user_stays_out(client, op):
    sign_in(client, op, groups=["baton-builders"])
    User.objects.filter(username="sam").update(is_active=False)
    other = Client()
    status, location = sign_in(other, op, groups=["baton-builders"])
    assert location == "/login?sso_error=SSO_INACTIVE"
    assert me(other).get("status") in (401, 403)


def test_state_mismatch_is_refused(client, op):
    op.user = {"sub": "u-1", "email": "sam@example.com", "groups": ["baton-admins"]}
    callback = start(client)
    forged = callback.replace("state=", "state=forged")
    response = client.get(forged)
    assert response.status_code == 302
    assert response["Location"] == "/login?sso_error=SSO_FAILED"
    assert me(client).get("status") in (401, 403)
    # A callback from a browser that never started a sign-in is refused too.
    assert Client().get(callback)["Location"].startswith("/login?sso_error=")
    assert not User.objects.filter(oidc_subject__isnull=False).exists()


def test_state_cannot_be_replayed(client, op):
    sign_in(client, op, groups=["baton-admins"])
    op.user = {"sub": "u-1", "email": "sam@example.com", "groups": ["baton-admins"]}
    callback = start(client)
    assert client.get(callback)["Location"] == "/workflows"
    assert client.get(callback)["Location"] == "/login?sso_error=SSO_FAILED"


@pytest.mark.parametrize("knob", ["wrong_nonce", "wrong_issuer", "wrong_audience", "unknown_key"])
def test_bad_id_tokens_are_refused(client, op, knob):
    setattr(op, knob, True)
    status, location = sign_in(client, op, groups=["baton-admins"])
    assert (status, location) == (302, "/login?sso_error=SSO_FAILED")
    assert me(client).get("status") in (401, 403)
    assert not User.objects.filter(oidc_subject__isnull=False).exists()


def test_next_cannot_leave_the_site(client, op):
    op.user = {"sub": "u-9", "email": "x@example.com", "groups": ["everyone"]}
    response = client.get("/api/auth/oidc/authenticate/", {"next": "https://evil.example/"})
    at_op = requests.get(response["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_op.headers["Location"])
    assert parse_qs(back.query)["state"]
    done = client.get(f"{back.path}?{back.query}")
    assert done["Location"] == "/"


def test_password_sign_in_still_works_with_sso_on(client, op):
    user_upsert(username="local", password="correct-horse-battery", role=User.Role.BUILDER)
    client.get("/api/auth/csrf/")
    response = client.post(
        "/api/auth/login/",
        {"username": "local", "password": "correct-horse-battery"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200, response.content


def test_group_roles_setting_is_parsed_strictly():
    assert parse_group_roles(" a=admin , b = Builder ") == {"a": "admin", "b": "builder"}
    with pytest.raises(ValueError):
        parse_group_roles("a=owner")
