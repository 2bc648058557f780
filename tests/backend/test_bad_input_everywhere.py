"""Every API route, fed garbage, answers 4xx in the error shape — never a 500.

Routes come from the URL conf, so a new endpoint is covered without touching this file.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

GARBAGE_BODIES = [
    "{not json",
    "[]",
    '"a string"',
    "null",
    '{"name": {"$gt": ""}, "inputs": [1, 2], "document": "x", "decision": 7, "edited": "x", "revision": "x"}',
    '{"document": {"nodes": [{"id": "1 bad", "type": 5}], "edges": [{}]}, "revision": -1}',
    '{"inputs": {"from": "' + "x" * 200_000 + '"}}',
]


def _api_routes() -> list[str]:
    routes: list[str] = []

    def walk(patterns: list, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                routes.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "")
    api = [
        r for r in routes if r.startswith("api/") and "^" not in r and "schema" not in r and "docs" not in r
    ]
    return sorted(set(api))


def _paths(route: str, ids: dict[str, int]) -> list[str]:
    existing = re.sub(r"<int:(\w+)>", lambda m: str(ids.get(m.group(1), 1)), route)
    missing = re.sub(r"<int:(\w+)>", "999999", route)
    return sorted({"/" + existing, "/" + missing})


def test_the_route_list_is_not_empty():
    assert len(_api_routes()) >= 20


@pytest.mark.parametrize("route", _api_routes())
def test_garbage_never_yields_a_500(route, client_for, support_workflow, django_capture_on_commit_callbacks):
    from tests.backend.conftest import CUSTOMER_EMAIL

    alice = client_for("alice")
    with django_capture_on_commit_callbacks(execute=True):
        run = alice.post(
            f"/api/workflows/{support_workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
        )
    from backend.approvals.models import Approval

    ids = {
        "workflow_id": support_workflow.id,
        "run_id": run.json()["id"],
        "approval_id": Approval.objects.first().id,
    }
    for who in ("alice", "bob", "rey"):
        client = client_for(who)
        for path in _paths(route, ids):
            for method in ("get", "post", "patch", "delete"):
                bodies = GARBAGE_BODIES if method in ("post", "patch") else [None]
                for body in bodies:
                    call = getattr(client, method)
                    if body is None:
                        response = call(path)
                    else:
                        response = call(path, data=body, content_type="application/json")
                    assert response.status_code < 500, (who, method, path, body[:80] if body else None)
                    if response.status_code >= 400:
                        error = response.json()["error"]
                        assert error["code"].isupper(), (method, path, error)
                        assert error["message"]
