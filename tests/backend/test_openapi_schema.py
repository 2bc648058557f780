"""The OpenAPI schema at /api/schema/: generated without a warning, and true to the real responses."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS, reset_generator_stats
from drf_spectacular.generators import SchemaGenerator

from backend.approvals.models import Approval
from tests.backend.conftest import CUSTOMER_EMAIL


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    reset_generator_stats()
    with GENERATOR_STATS.silence():
        result = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    return result


def test_schema_generates_and_validates_without_warnings(tmp_path):
    reset_generator_stats()
    stderr = StringIO()
    # --fail-on-warn raises SchemaGenerationError on any warning or error; --validate checks the
    # result against the OpenAPI 3 meta-schema.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"), stderr=stderr
    )
    assert not GENERATOR_STATS, stderr.getvalue()
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


def test_every_path_and_shared_component_is_described(schema):
    paths = schema["paths"]
    for path in (
        "/api/health/",
        "/api/auth/login/",
        "/api/auth/me/",
        "/api/node-types/",
        "/api/workflows/",
        "/api/workflows/{workflow_id}/",
        "/api/workflows/{workflow_id}/runs/",
        "/api/runs/",
        "/api/runs/{run_id}/",
        "/api/approvals/",
        "/api/approvals/{approval_id}/decision/",
        "/api/outbox/",
    ):
        assert path in paths, path
    components = schema["components"]["schemas"]
    for name in (
        "ErrorResponse",
        "User",
        "WorkflowDetail",
        "PaginatedWorkflowSummaryList",
        "RunDetail",
        "Step",
        "ApprovalDetail",
        "OutboxMessage",
        "WorkflowCreateRequest",
        "ApprovalDecisionRequest",
        "LoginRequest",
        "RunStartRequest",
    ):
        assert name in components, name
    assert "InputRequest" not in components

    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert {"workflows_list", "workflows_retrieve", "runs_list", "runs_retrieve", "approvals_list"} <= set(
        operation_ids
    )

    runs_list = paths["/api/runs/"]["get"]
    assert {p["name"] for p in runs_list["parameters"]} == {"workflow", "status", "page"}
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    detail = paths["/api/workflows/{workflow_id}/"]
    assert detail["patch"]["responses"]["409"]["content"]["application/json"]["schema"] == error_ref
    assert detail["get"]["responses"]["404"]["content"]["application/json"]["schema"] == error_ref


# --- The documented shapes match what the views return ----------------------------------------


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _conforms(schema: dict[str, Any], node: dict[str, Any], value: Any, where: str) -> None:
    """Assert ``value`` fits the OpenAPI 3.0 ``node`` closely: same keys, types, enums, nullability."""
    node = _resolve(schema, node)
    if "oneOf" in node:
        failures = []
        for option in node["oneOf"]:
            try:
                _conforms(schema, option, value, where)
                return
            except AssertionError as exc:
                failures.append(str(exc))
        raise AssertionError(f"{where}: {value!r} fits no option: {failures}")
    if value is None:
        assert node.get("nullable") or None in node.get("enum", []), f"{where}: null not allowed"
        return
    for part in node.get("allOf", []):
        _conforms(schema, part, value, where)
    if "enum" in node:
        assert value in node["enum"], f"{where}: {value!r} not in {node['enum']}"
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        assert isinstance(value, dict), f"{where}: not an object"
        properties = node.get("properties", {})
        if properties:
            missing = set(node.get("required", [])) - value.keys()
            undocumented = value.keys() - properties.keys()
            assert not missing, f"{where}: missing {sorted(missing)}"
            assert not undocumented, f"{where}: undocumented {sorted(undocumented)}"
        for key, item in value.items():
            if key in properties:
                _conforms(schema, properties[key], item, f"{where}.{key}")
            elif isinstance(node.get("additionalProperties"), dict):
                _conforms(schema, node["additionalProperties"], item, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), f"{where}: not an array"
        for i, item in enumerate(value):
            _conforms(schema, node["items"], item, f"{where}[{i}]")
    elif kind in ("string", "integer", "number", "boolean"):
        python = {"string": str, "integer": int, "number": (int, float), "boolean": bool}[kind]
        assert isinstance(value, python), f"{where}: {value!r} is not {kind}"
        assert kind == "boolean" or not isinstance(value, bool), f"{where}: {value!r} is not {kind}"


def _check(schema: dict[str, Any], path: str, method: str, response: Any) -> Any:
    documented = schema["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in documented, f"{method.upper()} {path}: status {status} is not documented"
    body = response.json() if response.content else None
    content = documented[status].get("content")
    if content is None:
        assert body is None, f"{method.upper()} {path}: undocumented body"
    else:
        _conforms(schema, content["application/json"]["schema"], body, f"{method.upper()} {path} {status}")
    return body


@pytest.mark.django_db
def test_real_responses_match_the_schema(
    schema, client, client_for, personas, support_workflow, django_capture_on_commit_callbacks
):
    alice, rey = client_for("alice"), client_for("rey")
    wf = support_workflow.id

    _check(schema, "/api/health/", "get", client.get("/api/health/"))
    _check(schema, "/api/auth/csrf/", "get", client.get("/api/auth/csrf/"))
    _check(schema, "/api/auth/me/", "get", client.get("/api/auth/me/"))  # 401
    _check(schema, "/api/auth/me/", "get", alice.get("/api/auth/me/"))
    _check(schema, "/api/node-types/", "get", alice.get("/api/node-types/"))
    _check(schema, "/api/workflows/", "get", alice.get("/api/workflows/"))
    _check(schema, "/api/workflows/", "post", alice.post("/api/workflows/", {"name": "New"}, format="json"))
    _check(schema, "/api/workflows/", "post", rey.post("/api/workflows/", {"name": "No"}, format="json"))
    detail = _check(schema, "/api/workflows/{workflow_id}/", "get", alice.get(f"/api/workflows/{wf}/"))
    assert detail["trigger_fields"]
    _check(schema, "/api/workflows/{workflow_id}/", "get", alice.get("/api/workflows/999999/"))  # 404
    patch = {"name": "Renamed", "revision": detail["revision"]}
    _check(
        schema,
        "/api/workflows/{workflow_id}/",
        "patch",
        alice.patch(f"/api/workflows/{wf}/", patch, format="json"),
    )
    stale = alice.patch(f"/api/workflows/{wf}/", patch, format="json")
    assert stale.status_code == 409
    _check(schema, "/api/workflows/{workflow_id}/", "patch", stale)
    _check(
        schema, "/api/workflows/{workflow_id}/validate/", "post", alice.post(f"/api/workflows/{wf}/validate/")
    )
    _check(
        schema, "/api/workflows/{workflow_id}/publish/", "post", alice.post(f"/api/workflows/{wf}/publish/")
    )
    _check(
        schema, "/api/workflows/{workflow_id}/versions/", "get", alice.get(f"/api/workflows/{wf}/versions/")
    )

    with django_capture_on_commit_callbacks(execute=True):
        started = alice.post(f"/api/workflows/{wf}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json")
    run = _check(schema, "/api/workflows/{workflow_id}/runs/", "post", started)
    _check(schema, "/api/runs/", "get", alice.get(f"/api/runs/?workflow={wf}&status=waiting"))
    run_detail = _check(schema, "/api/runs/{run_id}/", "get", alice.get(f"/api/runs/{run['id']}/"))
    assert run_detail["steps"]

    approval = Approval.objects.get(run_id=run["id"])
    _check(schema, "/api/approvals/", "get", rey.get("/api/approvals/"))
    item = _check(schema, "/api/approvals/{approval_id}/", "get", rey.get(f"/api/approvals/{approval.id}/"))
    _check(
        schema,
        "/api/approvals/{approval_id}/claim/",
        "post",
        rey.post(f"/api/approvals/{approval.id}/claim/"),
    )
    decision = {
        "decision": "approve",
        "edited": {"reply": "Refunded."},
        "comment": "ok",
        "payload_hash": item["payload_hash"],
    }
    with django_capture_on_commit_callbacks(execute=True):
        decided = rey.post(f"/api/approvals/{approval.id}/decision/", decision, format="json")
    assert _check(schema, "/api/approvals/{approval_id}/decision/", "post", decided)["decision"] == "approve"
    again = rey.post(f"/api/approvals/{approval.id}/decision/", decision, format="json")
    assert again.status_code == 409
    _check(schema, "/api/approvals/{approval_id}/decision/", "post", again)

    _check(schema, "/api/runs/{run_id}/", "get", alice.get(f"/api/runs/{run['id']}/"))
    outbox = _check(schema, "/api/outbox/", "get", alice.get("/api/outbox/"))
    assert outbox["count"] == 1
    _check(schema, "/api/runs/{run_id}/cancel/", "post", alice.post(f"/api/runs/{run['id']}/cancel/"))  # 409
