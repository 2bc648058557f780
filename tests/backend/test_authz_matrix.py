"""The authorization matrix: every /api/ route × persona × method against a written policy.

Routes come from the URL conf, so a new route without an entry in ``POLICY`` fails this test:
decide who may call it, then add the entry. Each call runs in a rolled-back savepoint, so a
DELETE by one persona does not change what the next one sees.

Expectations: ``OK`` = allowed (any status but 401/403/404 and 5xx: a 400 for the empty body
still means the caller got past the access checks), or exactly 401, 403 or 404. Objects a persona
may not see answer 404, never 403, and no refused response names the hidden workflow.

Personas cover every role and every share level of alice's workflow (view, run, edit; direct and
through a queue; edit held by a viewer acts as run): ``ACCESS`` says what each may do with it, and
the rule builders (``workflow(need)``, ``workflow_only(...)``) turn that into the expected answer.
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
PERSONAS = (
    "anonymous",
    "admin",
    "alice",
    "bob",
    "bob_view",
    "bob_run",
    "bob_edit",
    "rey",
    "vic",
    "vic_view",
    "vic_edit",
    "otto",
)
"""alice owns the workflow; bob is another builder; rey reviews the Support queue that holds the
workflow's approval; vic is a viewer. The others hold a direct share of alice's workflow:
bob_view/bob_run/bob_edit are builders with a view/run/edit share, vic_view is a viewer with a
view share and vic_edit a viewer with an edit share (which acts as run: viewers cannot build).
otto is a reviewer in the Billing queue, which holds a run share (a share through a group)."""

SHARES = {
    "bob_view": ("bev", User.Role.BUILDER, "view"),
    "bob_run": ("ron", User.Role.BUILDER, "run"),
    "bob_edit": ("eda", User.Role.BUILDER, "edit"),
    "vic_view": ("val", User.Role.VIEWER, "view"),
    "vic_edit": ("vera", User.Role.VIEWER, "edit"),
}
"""persona -> (username, role, share permission on alice's workflow)."""

CANNOT_BUILD = {"rey", "vic", "otto"} | {p for p, (_, role, _) in SHARES.items() if role != User.Role.BUILDER}

LEVEL = {"view": 0, "run": 1, "edit": 2}
ACCESS = {"admin": "edit", "alice": "edit", "otto": "run"} | {
    persona: "run" if permission == "edit" and role == User.Role.VIEWER else permission
    for persona, (_, role, permission) in SHARES.items()
}
"""What each persona may do with alice's workflow (docs/api.md, sharing): view reads it (draft,
versions, export, runs, policy), run also starts, cancels and re-runs runs, edit also changes it
(draft, publish, rollback, shares, webhook, node tests, reviews, delete); edit acts as run for
someone who cannot build. Personas not listed do not see the workflow at all (404)."""

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
    """Builders and admins; a share of someone's workflow does not make a viewer a builder."""
    if persona == "anonymous":
        return 401
    return 403 if persona in CANNOT_BUILD else OK


def workflow(need: str) -> Rule:
    """Through alice's workflow: OK with at least ``need`` (view < run < edit), 403 for someone
    who sees the workflow with less, 404 for someone who does not see it at all."""

    def rule(persona: str, method: str) -> Any:
        if persona == "anonymous":
            return 401
        if persona not in ACCESS:
            return 404
        return OK if LEVEL[ACCESS[persona]] >= LEVEL[need] else 403

    return rule


def workflow_only(*allowed: str) -> Rule:
    """Through alice's workflow, for the personas named only (say, the owner): everyone else who
    sees the workflow gets 403, whatever their share; those who do not see it 404."""

    def rule(persona: str, method: str) -> Any:
        if persona == "anonymous":
            return 401
        if persona in allowed:
            return OK
        return 403 if persona in ACCESS else 404

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
        get=workflow("view"), patch=workflow("edit"), delete=workflow_only("admin", "alice")
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
    # Anyone who sees the workflow reads its policy; admins and the owner (alice) may tighten it,
    # editors with a share may not (docs/policies.md); only admins remove it.
    "api/workflows/<int:workflow_id>/policy/": by_method(
        get=workflow("view"),
        put=workflow_only("admin", "alice"),
        delete=workflow_only("admin"),
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
    sharers = {}
    for persona, (username, role, permission) in SHARES.items():
        sharers[persona] = user_upsert(username=username, password=PASSWORD, role=role)
        WorkflowShare.objects.create(workflow=support_workflow, user=sharers[persona], permission=permission)
    share = WorkflowShare.objects.get(workflow=support_workflow, user=sharers["bob_view"])
    billing = Queue.objects.get(name="Billing")
    WorkflowShare.objects.create(workflow=support_workflow, queue=billing, permission="run")
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
    users = {**personas, **sharers}
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


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_lists_and_flags_follow_the_shares(world):
    """Lists show alice's workflow, its runs and reviews to exactly those who see it, and the
    ``can_*`` flags the editor uses tell each persona what the matrix above lets it do."""
    ids = world["ids"]
    failures = []
    for persona in PERSONAS:
        if persona == "anonymous":
            continue
        client = _client(persona, world["users"])
        level = LEVEL.get(ACCESS.get(persona, ""), -1)
        sees = persona in ACCESS
        listed = {
            "workflows": ids["workflow_id"] in _ids(client.get("/api/workflows/")),
            "runs": ids["run_id"] in _ids(client.get("/api/runs/")),
            "version-reviews": ids["review_id"] in _ids(client.get("/api/version-reviews/?status=all")),
        }
        failures += [f"{persona}: {name} list shows it: {got}" for name, got in listed.items() if got != sees]
        if not sees:
            continue
        detail = client.get(f"/api/workflows/{ids['workflow_id']}/").json()
        review = client.get(f"/api/version-reviews/{ids['review_id']}/").json()
        policy = client.get(f"/api/workflows/{ids['workflow_id']}/policy/").json()
        flags = {
            "can_edit": (detail["can_edit"], level >= LEVEL["edit"]),
            "can_run": (detail["can_run"], level >= LEVEL["run"]),
            "can_decide": (review["can_decide"], level >= LEVEL["edit"]),
            "policy can_edit": (policy["can_edit"], persona in ("admin", "alice")),
            "policy can_delete": (policy["can_delete"], persona == "admin"),
        }
        failures += [
            f"{persona}: {name} is {got}, want {want}" for name, (got, want) in flags.items() if got != want
        ]
    assert not failures, "\n".join(failures)
