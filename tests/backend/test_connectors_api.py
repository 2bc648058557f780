"""Connectors API: admin-only writes, per-kind validation, and secrets that never come back."""

from __future__ import annotations

import pytest

from backend.audit.models import AuditEvent
from backend.connectors.models import Connector

pytestmark = pytest.mark.django_db

CANARY = "CANARY-s3cr3t-9d41"

KINDS = {
    "smtp": (
        {"host": "smtp.example.com", "port": 587, "username": "bot", "use_tls": True},
        {"password": CANARY},
    ),
    "http": (
        {"base_url": "https://api.example.com/v1", "auth_type": "bearer"},
        {"token": CANARY},
    ),
    "model": (
        {"provider": "openai", "models": ["gpt-4o-mini"]},
        {"api_key": CANARY},
    ),
    "slack": ({"channel": "#support"}, {"webhook_url": f"https://hooks.slack.com/services/{CANARY}"}),
}


def _no_canary(response) -> None:
    assert CANARY not in response.content.decode(), response.content


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_canary_secret_never_leaves_through_the_api_or_the_audit_log(kind, client_for):
    admin, alice = client_for("admin"), client_for("alice")
    config, secret = KINDS[kind]
    created = admin.post(
        "/api/connectors/",
        {"name": f"{kind} one", "kind": kind, "config": config, "secret": secret},
        format="json",
    )
    assert created.status_code == 201, created.json()
    _no_canary(created)
    body = created.json()
    assert body["secret_set"] is True
    assert body["secret_fields"] == sorted(secret)
    assert "secret" not in body
    cid = body["id"]

    for response in (
        admin.get("/api/connectors/"),
        admin.get(f"/api/connectors/{cid}/"),
        alice.get("/api/connectors/"),
        alice.get(f"/api/connectors/{cid}/"),
        admin.patch(f"/api/connectors/{cid}/", {"name": f"{kind} renamed"}, format="json"),
        admin.patch(f"/api/connectors/{cid}/", {"secret": secret}, format="json"),
        admin.get("/api/audit/"),
        admin.get("/api/audit/export.csv"),
    ):
        assert response.status_code == 200
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert CANARY.encode() not in content

    # A 400 does not echo the submitted secret either.
    bad = admin.patch(
        f"/api/connectors/{cid}/", {"config": {"nope": CANARY}, "secret": {"x": CANARY}}, format="json"
    )
    assert bad.status_code == 400
    _no_canary(bad)

    for event in AuditEvent.objects.all():
        assert CANARY not in str(event.data) + event.target_id + event.action
    assert Connector.objects.get(id=cid).secret == secret  # still readable through the ORM


def test_patch_without_secret_keeps_it_and_with_secret_replaces_it(client_for):
    admin = client_for("admin")
    cid = admin.post(
        "/api/connectors/",
        {
            "name": "mail",
            "kind": "smtp",
            "config": {"host": "smtp.example.com", "username": "u"},
            "secret": {"password": "first-password"},
        },
        format="json",
    ).json()["id"]
    response = admin.patch(
        f"/api/connectors/{cid}/", {"config": {"host": "mail.example.org", "username": "u"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["allowed_hosts"] == ["mail.example.org"]
    assert Connector.objects.get(id=cid).secret == {"password": "first-password"}
    admin.patch(f"/api/connectors/{cid}/", {"secret": {"password": "second-password"}}, format="json")
    assert Connector.objects.get(id=cid).secret == {"password": "second-password"}
    update = AuditEvent.objects.filter(action="connector.update").first()
    assert update.data["secret_changed"] is True
    assert "second-password" not in str(update.data)


@pytest.mark.parametrize(
    ("kind", "config", "secret", "field"),
    [
        ("smtp", {"port": 25}, {}, "config.host"),
        ("smtp", {"host": "smtp.example.com", "port": 70000}, {}, "config.port"),
        ("http", {"base_url": "ftp://example.com"}, {}, "config.base_url"),
        ("http", {"base_url": "https://example.com", "auth_type": "bearer"}, {}, "secret.token"),
        ("http", {"base_url": "https://example.com", "auth_type": "magic"}, {}, "config.auth_type"),
        ("model", {"provider": "anthropic", "models": ["claude"]}, {}, "secret.api_key"),
        ("model", {"provider": "ollama", "models": ["llama3"]}, {}, "config.base_url"),
        ("model", {"provider": "openai", "models": []}, {"api_key": "k"}, "config.models"),
        ("slack", {}, {"webhook_url": "http://hooks.slack.com/x"}, "secret.webhook_url"),
        ("slack", {}, {}, "secret.webhook_url"),
        ("smtp", {"host": "smtp.example.com"}, {"password": "x", "extra": "y"}, "secret.extra"),
        ("smtp", "not an object", {}, "config"),
    ],
)
def test_invalid_settings_per_kind_are_400_connector_config_invalid(kind, config, secret, field, client_for):
    response = client_for("admin").post(
        "/api/connectors/", {"name": "x", "kind": kind, "config": config, "secret": secret}, format="json"
    )
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "CONNECTOR_CONFIG_INVALID"
    assert field in [d["field"] for d in error["details"]], error


def test_bad_allowed_hosts_are_rejected(client_for):
    response = client_for("admin").post(
        "/api/connectors/",
        {
            "name": "x",
            "kind": "slack",
            "secret": {"webhook_url": "https://hooks.slack.com/x"},
            "allowed_hosts": ["http://evil"],
        },
        format="json",
    )
    assert response.json()["error"]["code"] == "CONNECTOR_CONFIG_INVALID"


def test_only_admins_write_builders_see_names_and_kinds_others_nothing(client_for):
    admin = client_for("admin")
    cid = admin.post(
        "/api/connectors/",
        {"name": "hooks", "kind": "slack", "secret": {"webhook_url": "https://hooks.slack.com/x"}},
        format="json",
    ).json()["id"]
    alice = client_for("alice")
    assert alice.get("/api/connectors/").json()["results"] == [{"id": cid, "name": "hooks", "kind": "slack"}]
    assert alice.post("/api/connectors/", {"name": "n", "kind": "slack"}, format="json").status_code == 403
    assert alice.patch(f"/api/connectors/{cid}/", {"name": "n"}, format="json").status_code == 403
    assert alice.delete(f"/api/connectors/{cid}/").status_code == 403
    for who in ("rey", "vic"):
        response = client_for(who).get("/api/connectors/")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert admin.delete(f"/api/connectors/{cid}/").status_code == 204
    assert admin.get(f"/api/connectors/{cid}/").status_code == 404
    assert AuditEvent.objects.filter(action="connector.delete", target_id=str(cid)).exists()


def test_duplicate_name_is_409(client_for):
    admin = client_for("admin")
    body = {"name": "dup", "kind": "slack", "secret": {"webhook_url": "https://hooks.slack.com/x"}}
    assert admin.post("/api/connectors/", body, format="json").status_code == 201
    response = admin.post("/api/connectors/", body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONNECTOR_NAME_TAKEN"
