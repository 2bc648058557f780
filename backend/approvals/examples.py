"""Reviewer edits kept as examples: (draft, edited, decision) per LLM node, for builders to learn from.

Every decided review writes one ``ReviewExample``, attributed to the ``llm.*`` node that wrote the
draft: the one the approval's field templates name (``{{ steps.<id>... }}``), else the nearest
``llm.*`` node upstream of the approval node.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from django.db.models import QuerySet

from backend.accounts.models import User
from backend.approvals.models import Approval, ReviewExample
from backend.workflows.models import Workflow

_STEP_REF = re.compile(r"steps\.([A-Za-z0-9_\-]+)")


def source_llm_node(document: Any, approval_node_id: str) -> str:
    """The id of the ``llm.*`` node that drafted what ``approval_node_id`` shows ('' if none)."""
    if not isinstance(document, dict):
        return ""
    nodes = {n.get("id"): n for n in document.get("nodes") or [] if isinstance(n, dict)}

    def is_llm(node_id: Any) -> bool:
        return str((nodes.get(node_id) or {}).get("type") or "").startswith("llm.")

    node = nodes.get(approval_node_id) or {}
    config = node.get("config")
    fields = config.get("fields") if isinstance(config, dict) else None
    if not isinstance(fields, dict):
        fields = {}
    for template in fields.values():
        for ref in _STEP_REF.findall(str(template)):
            if is_llm(ref):
                return str(ref)
    parents: dict[str, list[str]] = {}
    for edge in document.get("edges") or []:
        if isinstance(edge, dict):
            parents.setdefault(str(edge.get("target")), []).append(str(edge.get("source")))
    seen = {approval_node_id}
    todo = deque(parents.get(approval_node_id, []))
    while todo:
        current = todo.popleft()
        if current in seen:
            continue
        seen.add(current)
        if is_llm(current):
            return current
        todo.extend(parents.get(current, []))
    return ""


def example_record(*, approval: Approval, reviewer: User | None) -> ReviewExample | None:
    """Keep a decided approval as an example (once); None when it is not decided by a person."""
    if approval.status not in (
        Approval.Status.APPROVED,
        Approval.Status.REJECTED,
        Approval.Status.CHANGES_REQUESTED,
    ):
        return None
    run = approval.run
    llm_node = source_llm_node(run.version.document, approval.node_id)
    example, _ = ReviewExample.objects.get_or_create(
        approval=approval,
        defaults={
            "workflow_id": run.workflow_id,
            "llm_node_id": llm_node,
            "approval_node_id": approval.node_id,
            "draft": approval.fields,
            "edited": approval.edited or None,
            "decision": approval.status,
            "comment": approval.comment,
            "reviewer": reviewer,
            "decided_at": approval.decided_at,
        },
    )
    return example


def examples_for_node(*, workflow: Workflow, node_id: str) -> QuerySet[ReviewExample]:
    """Examples of one LLM node; the caller checked that the user may edit the workflow."""
    return ReviewExample.objects.filter(workflow=workflow, llm_node_id=node_id).select_related(
        "reviewer", "approval"
    )


def example_summary(e: ReviewExample) -> dict[str, Any]:
    return {
        "id": e.id,
        "approval_id": e.approval_id,
        "run_id": e.approval.run_id,
        "approval_node_id": e.approval_node_id,
        "llm_node_id": e.llm_node_id,
        "draft": e.draft,
        "edited": e.edited,
        "decision": e.decision,
        "comment": e.comment,
        "reviewer": e.reviewer.username if e.reviewer else None,
        "decided_at": e.decided_at.isoformat(),
    }
