"""Versions: read one, compare two structurally, roll the draft back; export and import.

The diff matches nodes by id and edges by their connection (source/port → target/port), and
flattens each node's config to dotted paths (``config.prompt``) so a person sees which field
changed. Positions are layout, not behaviour: left out unless asked for.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.common.errors import ApiError, NotFound
from backend.workflows.models import Workflow, WorkflowVersion
from backend.workflows.services import document_normalize, workflow_create, workflow_draft_write

DRAFT = "draft"
EXPORT_FORMAT = "baton.workflow"


# --- selectors ---------------------------------------------------------------------------------


def workflow_version_get(*, workflow: Workflow, number: Any) -> WorkflowVersion:
    """The workflow's version ``number`` (the caller has checked access to the workflow).

    Raises:
        NotFound: no such version.
    """
    try:
        return workflow.versions.select_related("created_by").get(number=int(number))
    except (WorkflowVersion.DoesNotExist, ValueError, TypeError):
        raise NotFound("Version not found.") from None


def workflow_document_at(*, workflow: Workflow, ref: str) -> dict[str, Any]:
    """The document of version ``ref`` (a number) or of the draft (``"draft"``)."""
    if ref == DRAFT:
        return dict(workflow.draft)
    return dict(workflow_version_get(workflow=workflow, number=ref).document)


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key in sorted(value):
            _flatten(value[key], f"{prefix}.{key}", out)
    else:
        out[prefix] = value


def _node_fields(node: dict[str, Any], *, positions: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in ("type", "type_version", "label"):
        fields[key] = node.get(key)
    _flatten(node.get("config") or {}, "config", fields)
    if positions:
        _flatten(node.get("position") or {}, "position", fields)
    return fields


def _node_brief(node: dict[str, Any]) -> dict[str, Any]:
    return {"id": node.get("id"), "type": node.get("type"), "label": node.get("label") or node.get("id")}


def _edge_key(edge: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(edge.get("source")),
        str(edge.get("source_port", "out")),
        str(edge.get("target")),
        str(edge.get("target_port", "in")),
    )


def _edge_brief(edge: dict[str, Any]) -> dict[str, Any]:
    source, source_port, target, target_port = _edge_key(edge)
    return {
        "id": edge.get("id"),
        "source": source,
        "source_port": source_port,
        "target": target,
        "target_port": target_port,
    }


def document_diff(
    before: dict[str, Any], after: dict[str, Any], *, positions: bool = False
) -> dict[str, Any]:
    """What changed from ``before`` to ``after``: nodes added/removed/changed, edges added/removed."""
    old_nodes = {n.get("id"): n for n in before.get("nodes") or [] if isinstance(n, dict)}
    new_nodes = {n.get("id"): n for n in after.get("nodes") or [] if isinstance(n, dict)}
    changed = []
    for node_id in [i for i in new_nodes if i in old_nodes]:
        old = _node_fields(old_nodes[node_id], positions=positions)
        new = _node_fields(new_nodes[node_id], positions=positions)
        fields = [
            {"path": path, "before": old.get(path), "after": new.get(path)}
            for path in sorted(set(old) | set(new))
            if old.get(path) != new.get(path)
        ]
        if fields:
            changed.append({**_node_brief(new_nodes[node_id]), "fields": fields})
    old_edges = {_edge_key(e): e for e in before.get("edges") or [] if isinstance(e, dict)}
    new_edges = {_edge_key(e): e for e in after.get("edges") or [] if isinstance(e, dict)}
    return {
        "nodes": {
            "added": [_node_brief(n) for i, n in new_nodes.items() if i not in old_nodes],
            "removed": [_node_brief(n) for i, n in old_nodes.items() if i not in new_nodes],
            "changed": changed,
        },
        "edges": {
            "added": [_edge_brief(e) for k, e in new_edges.items() if k not in old_edges],
            "removed": [_edge_brief(e) for k, e in old_edges.items() if k not in new_edges],
        },
    }


def workflow_export(*, workflow: Workflow) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "format_version": 1,
        "name": workflow.name,
        "description": workflow.description,
        "document": workflow.draft,
    }


# --- services ----------------------------------------------------------------------------------


@transaction.atomic
def workflow_rollback(
    *, workflow: Workflow, version: WorkflowVersion, user: User, revision: int | None = None
) -> Workflow:
    """Make ``version``'s document the draft (a new draft revision).

    Raises:
        Conflict: STALE_REVISION when ``revision`` is given and someone saved in between.
    """
    workflow_draft_write(workflow=workflow, user=user, revision=revision, changes={"draft": version.document})
    audit_record(
        actor=user,
        action="workflow.rollback",
        target=workflow,
        data={"version": version.number, "revision": workflow.revision},
    )
    return workflow


def import_payload_parse(*, raw: Any) -> tuple[dict[str, Any], str, str]:
    """Split an import payload into (document, name, description).

    Accepts an export bundle (``{"format", "name", "description", "document"}``) or a bare
    document (``{"schema_version", "nodes", "edges"}``); raw bytes/str are parsed as JSON.

    Raises:
        ApiError: WORKFLOW_INVALID when it is not JSON or not a workflow.
    """
    if isinstance(raw, bytes | str):
        try:
            raw = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError("The file is not valid JSON.", code="WORKFLOW_INVALID") from None
    if not isinstance(raw, dict):
        raise ApiError("The import must be a JSON object.", code="WORKFLOW_INVALID")
    if isinstance(raw.get("document"), dict):
        name, description = raw.get("name"), raw.get("description")
        document = raw["document"]
    elif "nodes" in raw:
        name, description, document = None, None, raw
    else:
        raise ApiError(
            "Expected an exported workflow or a document with 'nodes' and 'edges'.", code="WORKFLOW_INVALID"
        )
    return (
        document,
        name.strip()[:200] if isinstance(name, str) else "",
        description[:5000] if isinstance(description, str) else "",
    )


@transaction.atomic
def workflow_import(*, user: User, raw: Any, name: str | None = None) -> Workflow:
    """A new workflow owned by ``user`` from an exported file or document (node ids kept).

    Raises:
        ApiError / WorkflowInvalid: WORKFLOW_INVALID when malformed.
    """
    document, bundle_name, description = import_payload_parse(raw=raw)
    document = document_normalize(document)
    workflow = workflow_create(
        user=user,
        name=(name or "").strip() or bundle_name or "Imported workflow",
        description=description,
        document=document,
    )
    audit_record(
        actor=user, action="workflow.import", target=workflow, data={"nodes": len(document["nodes"])}
    )
    return workflow
