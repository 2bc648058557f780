"""The authorization matrix: every /api/ route × persona × method against a written policy.

Routes come from the URL conf, so a new route without an entry in ``POLICY`` fails this test:
decide who may call it, then add the entry. Each call runs in a rolled-back savepoint, so a
DELETE by one persona does not change what the next one sees.

Expectations: ``OK`` = allowed (any status but 401/403/404 and 5xx: a 400 for the empty body
still means the caller got past the access checks), or exactly 401, 403 or 404. Objects a persona
may not see answer 404, never 403, and no refused response names the hidden workflow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.accounts.services import api_token_create, user_upsert
from backend.approvals.models import Approval, Queue
from backend.connectors.models import Connector
from backend.workflows.models import VersionReview, Workflow, WorkflowShare
from tests.backend.conftest import CUSTOMER_EMAIL, PASSWORD

pytestmark = pytest.mark.django_db

SECRET_NAME = "Zebra-7731 confidential workflow"
PERSONAS = ("anonymous", "admin", "alice", "bob", "bob_view", "rey", "vic")
"""alice owns the workflow; bob is another builder; bob_view (user "bev") is a builder with a view
share; rey reviews the Support queue that holds the workflow's approval; vic is a viewer."""

OK = "ok"
Rule = Callable[[str, str], Any]  # (persona, method) -> OK | 401 | 403 | 404

# --- rule builders ------------------------------------------------------------------------------


def public(persona: str, method: str) -> str:
    """Open to anyone, signed in or not (the view decides what an unknown token etc. gets)."""
    return OK


def authed(persona: str, method: str) -> Any:
    return 401 if persona == "anonymous" else OK


def admin_only(persona: str, method: str) -> Any:
    return {"anonymous": 401, "admin": OK}.get(persona, 403)


def builders(persona: str, method: str) -> Any:
    return {"anonymous": 401, "rey": 403, "vic": 403}.get(persona, OK)


def workflow(need: str) -> Rule:
    """Through alice's workflow: admins and alice do anything; bob_view may only view."""

    def rule(persona: str, method: str) -> Any:
        if persona == "anonymous":
            return 401
        if persona in ("admin", "alice"):
            return OK
        if persona == "bob_view":
            return OK if need == "view" else 403
        return 404

    return rule


def approval(persona: str, method: str) -> Any:
    """The approval sits in the Support queue: admins and Support members see it."""
    return {"anonymous": 401, "admin": OK, "rey": OK}.get(persona, 404)


def own_token(persona: str, method: str) -> Any:
    """alice's API token: only alice may revoke it; for everyone else it does not exist."""
    return {"anonymous": 401, "alice": OK}.get(persona, 404)


def by_method(**rules: Rule) -> Rule:
    def rule(persona: str, method: str) -> Any:
        assert method in rules, f"no rule for {method.upper()}: add it to POLICY"
        return rules[method](persona, method)

    return rule


POLICY: dict[str, Rule] = {
    "api/health/": public,
    "api/auth/csrf/": public,
    "api/auth/login/": public,
    "api/auth/token/": public,
    "api/auth/logout/": public,
    "api/auth/invitations/accept/": public,
    "api/auth/config/": public,
    # Single sign-on browser redirects: open to anyone when configured; SSO is off here (404).
    "api/auth/oidc/authenticate/": lambda persona, method: 404 if method == "get" else 405,
    "api/auth/oidc/callback/": lambda persona, method: 404 if method == "get" else 405,
    # A webhook's token is its credential: an unknown one is 404 for everyone, never 401.
    "api/hooks/<str:token>/": lambda persona, method: 404,
    # drf-spectacular serves the schema and Swagger UI to anyone (SERVE_PERMISSIONS default).
    "api/schema/": public,
    "api/docs/": public,
    "api/auth/me/": authed,
    "api/auth/tokens/": authed,
    "api/auth/tokens/<int:token_id>/": own_token,
    "api/node-types/": authed,
    "api/users/": admin_only,
    "api/users/<int:user_id>/": admin_only,
    "api/workflows/": by_method(get=authed, post=builders),
    "api/workflows/import/": builders,
    "api/workflows/<int:workflow_id>/": by_method(
        get=workflow("view"), patch=workflow("edit"), delete=workflow("edit")
    ),
    "api/workflows/<int:workflow_id>/validate/": workflow("view"),
    "api/workflows/<int:workflow_id>/publish/": workflow("edit"),
    "api/workflows/<int:workflow_id>/versions/": workflow("view"),
    "api/workflows/<int:workflow_id>/versions/<int:number>/": workflow("view"),
    "api/workflows/<int:workflow_id>/versions/<int:number>/diff/": workflow("view"),
    "api/workflows/<int:workflow_id>/versions/<int:number>/rollback/": workflow("edit"),
    "api/workflows/<int:workflow_id>/export/": workflow("view"),
    "api/workflows/<int:workflow_id>/runs/": workflow("run"),
    "api/workflows/<int:workflow_id>/shares/": workflow("edit"),
    "api/workflows/<int:workflow_id>/shares/<int:share_id>/": workflow("edit"),
    "api/workflows/<int:workflow_id>/webhook/": workflow("edit"),
    "api/workflows/<int:workflow_id>/webhook/rotate/": workflow("edit"),
    "api/workflows/<int:workflow_id>/nodes/<str:node_id>/test/": workflow("edit"),
    "api/workflows/<int:workflow_id>/nodes/<str:node_id>/examples/": workflow("edit"),
    "api/workflows/<int:workflow_id>/expressions/preview/": workflow("view"),
    "api/version-reviews/": authed,
    "api/version-reviews/<int:review_id>/": workflow("view"),
    # Deciding needs edit access (an empty body is a 400 after the access checks).
    "api/version-reviews/<int:review_id>/decision/": workflow("edit"),
    "api/templates/": authed,
    "api/templates/<str:key>/use/": builders,
    "api/runs/": authed,
    "api/runs/<int:run_id>/": workflow("view"),
    "api/runs/<int:run_id>/cancel/": workflow("run"),
    "api/runs/<int:run_id>/rerun/": workflow("run"),
    "api/approvals/": authed,
    "api/approvals/stats/": authed,
    "api/approvals/<int:approval_id>/": approval,
    "api/approvals/<int:approval_id>/claim/": approval,
    "api/approvals/<int:approval_id>/release/": approval,
    "api/approvals/<int:approval_id>/decision/": approval,
    "api/queues/": by_method(get=authed, post=admin_only),
    "api/queues/<int:queue_id>/": admin_only,
    "api/outbox/": authed,
    "api/models/": authed,
    "api/model-overrides/": admin_only,
    "api/usage/": authed,
    "api/connectors/": by_method(get=builders, post=admin_only),
    "api/connectors/kinds/": builders,
    "api/connectors/<int:connector_id>/": by_method(get=builders, patch=admin_only, delete=admin_only),
    "api/connectors/<int:connector_id>/test/": admin_only,
    "api/audit/": admin_only,
    "api/audit/export.csv": admin_only,
    "api/policies/global/": admin_only,
    "api/policies/workflows/": admin_only,
    # Anyone who sees the workflow reads its policy; admins and the owner (alice) may tighten it;
    # only admins remove it (bob_view sees it but may not edit: 403).
    "api/workflows/<int:workflow_id>/policy/": by_method(
        get=workflow("view"),
        put=workflow("edit"),
        delete=lambda persona, method: 403 if persona == "alice" else workflow("edit")(persona, method),
    ),
}

# Personas that can see nothing of alice's workflow: no response to them may name it.
BLIND = {"anonymous", "bob", "vic"}


def _api_routes() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                view = getattr(p.callback, "view_class", None)
                if not route.startswith("api/") or "^" in route or view is None:
                    continue  # the JSON 404 catch-all
                methods = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]
                found.append((route, methods))

    walk(get_resolver().url_patterns, "")
    return sorted(found)


ROUTES = _api_routes()


def test_every_route_has_a_policy():
    missing = [route for route, _ in ROUTES if route not in POLICY]
    assert not missing, f"Routes without an authorization policy (add them to POLICY): {missing}"


@pytest.fixture
def world(personas, support_workflow, client_for, django_capture_on_commit_callbacks) -> dict[str, Any]:
    Workflow.objects.filter(id=support_workflow.id).update(name=SECRET_NAME)
    bev = user_upsert(username="bev", password=PASSWORD, role=User.Role.BUILDER)
    share = WorkflowShare.objects.create(workflow=support_workflow, user=bev, permission="view")
    with django_capture_on_commit_callbacks(execute=True):
        run = client_for("alice").post(
            f"/api/workflows/{support_workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
        )
    assert run.status_code == 201, run.json()
    token, _ = api_token_create(
        user=personas["alice"], name="ci", expires_at=timezone.now() + timedelta(days=30)
    )
    # An IP literal on loopback: "test connection" is refused by the SSRF policy before any
    # DNS lookup or socket, so the matrix never touches the network.
    connector = Connector.objects.create(name="mail", kind="smtp", config={"host": "127.0.0.1"})
    templates = client_for("admin").get("/api/templates/").json().get("results") or [{"key": "none"}]
    ids = {
        "workflow_id": support_workflow.id,
        "run_id": run.json()["id"],
        "approval_id": Approval.objects.get(run_id=run.json()["id"]).id,
        "share_id": share.id,
        "user_id": personas["vic"].id,
        "token_id": token.id,
        "queue_id": Queue.objects.get(name="Support").id,
        "connector_id": connector.id,
        "number": 1,
        "key": templates[0]["key"],
        "token": "not-a-real-hook-token",
        "node_id": "draft",
        "review_id": VersionReview.objects.create(
            workflow=support_workflow, version=support_workflow.versions.get(number=1)
        ).id,
    }
    users = {**personas, "bob_view": bev}
    return {"ids": ids, "users": users}


def _client(persona: str, users: dict[str, User]) -> APIClient:
    client = APIClient()
    if persona != "anonymous":
        client.force_authenticate(users[persona])
    return client


def _path(route: str, ids: dict[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        assert m.group(2) in ids, f"no test object for <{m.group(1)}:{m.group(2)}> in {route}"
        return str(ids[m.group(2)])

    return "/" + re.sub(r"<(\w+):(\w+)>", sub, route)


def _matches(expected: Any, status: int) -> bool:
    if expected == OK:
        return status < 500 and status not in (401, 403, 404)
    return status == expected


@pytest.mark.parametrize(("route", "methods"), ROUTES, ids=[r for r, _ in ROUTES])
def test_route_matrix(route, methods, world):
    assert route in POLICY, f"{route} has no authorization policy: add it to POLICY in this file"
    rule = POLICY[route]
    path = _path(route, world["ids"])
    failures = []
    for persona in PERSONAS:
        client = _client(persona, world["users"])
        for method in methods:
            expected = rule(persona, method)
            with transaction.atomic():
                call = getattr(client, method)
                response = call(path, {}, format="json") if method in ("post", "put", "patch") else call(path)
                transaction.set_rollback(True)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if not _matches(expected, response.status_code):
                failures.append(
                    f"{persona} {method.upper()} {path}: expected {expected}, got {response.status_code}"
                )
            refused = response.status_code in (401, 403, 404)
            if (refused or persona in BLIND) and SECRET_NAME.encode() in body:
                failures.append(f"{persona} {method.upper()} {path}: response names the hidden workflow")
    assert not failures, "\n".join(failures)
