from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.common.engine import registry
from backend.common.errors import ApiError, Conflict
from backend.policies.checks import policy_check_publish
from backend.workflows import reviews
from backend.workflows.models import Workflow, WorkflowVersion, empty_document
from orchestrator_core import WorkflowInvalid, parse_workflow, validate_workflow
from orchestrator_core.validation import Issue

MAX_DOCUMENT_BYTES = 1_000_000


def document_hash(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


MAX_NOTES = 200
MAX_NOTE_CHARS = 10_000


def _notes_normalize(raw: Any) -> list[dict[str, Any]]:
    """Sticky notes are editor annotations kept beside the graph; the engine never reads them."""
    if not isinstance(raw, list) or len(raw) > MAX_NOTES:
        raise WorkflowInvalid(f"'notes' must be a list of at most {MAX_NOTES} notes.")
    notes = []
    for i, note in enumerate(raw):
        position = note.get("position") if isinstance(note, dict) else None
        if (
            not isinstance(note, dict)
            or not isinstance(note.get("id"), str)
            or not isinstance(note.get("text", ""), str)
            or len(note.get("text", "")) > MAX_NOTE_CHARS
            or not isinstance(position, dict)
            or not all(isinstance(position.get(k), int | float) for k in ("x", "y"))
        ):
            raise WorkflowInvalid(
                f"notes[{i}] must be {{id, text (at most {MAX_NOTE_CHARS} characters), position: {{x, y}}}}."
            )
        notes.append(
            {
                "id": note["id"][:64],
                "text": note.get("text", ""),
                "position": {"x": float(position["x"]), "y": float(position["y"])},
            }
        )
    return notes


def document_normalize(document: Any) -> dict[str, Any]:
    """Check the document's shape and return its canonical form (sticky notes kept).

    Raises:
        WorkflowInvalid: malformed (the graph may still have validation issues: drafts may).
        ApiError: larger than MAX_DOCUMENT_BYTES.
    """
    if len(json.dumps(document, default=str)) > MAX_DOCUMENT_BYTES:
        raise ApiError(
            "The workflow document is larger than 1 MB.", code="PAYLOAD_TOO_LARGE", status_code=413
        )
    normalized = parse_workflow(document).to_document()
    if isinstance(document, dict) and document.get("notes"):
        normalized["notes"] = _notes_normalize(document["notes"])
    return normalized


def document_issues(document: Any, workflow: Workflow | None = None, user: User | None = None) -> list[Issue]:
    """Core validation; with ``workflow``, also the workflows its sub-workflow and loop nodes call
    (which ``user``, the one publishing or test-running, must be allowed to run too)."""
    issues = validate_workflow(document, registry())
    if workflow is not None:
        from backend.runs.subruns import subworkflow_issues  # runs builds on workflows

        issues += subworkflow_issues(workflow=workflow, document=document, user=user)
    return issues


@transaction.atomic
def workflow_create(*, user: User, name: str, description: str = "", document: Any = None) -> Workflow:
    doc = document_normalize(document) if document is not None else empty_document()
    workflow = Workflow.objects.create(
        name=name, description=description, owner=user, draft=doc, updated_by=user
    )
    audit_record(actor=user, action="workflow.create", target=workflow, data={"name": name})
    return workflow


@transaction.atomic
def workflow_update(
    *,
    workflow: Workflow,
    user: User,
    revision: int | None,
    name: str | None = None,
    description: str | None = None,
    document: Any = None,
) -> Workflow:
    """Save the draft. ``revision`` must be the one the editor loaded (optimistic locking).

    Raises:
        Conflict: STALE_REVISION when someone saved in between.
    """
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if description is not None:
        changes["description"] = description
    if document is not None:
        changes["draft"] = document_normalize(document)
    if not changes:
        return workflow
    if revision is None:
        raise ApiError("'revision' is required: send the revision you loaded.", code="BAD_REQUEST")
    workflow_draft_write(workflow=workflow, user=user, revision=revision, changes=changes)
    audit_record(
        actor=user,
        action="workflow.update",
        target=workflow,
        data={"fields": sorted(k if k != "draft" else "document" for k in changes)},
    )
    return workflow


def workflow_draft_write(
    *, workflow: Workflow, user: User, revision: int | None, changes: dict[str, Any]
) -> None:
    """Write ``changes`` as a new draft revision, only if the draft is still at ``revision``.

    ``revision=None`` writes unconditionally. Refreshes ``workflow`` from the database.

    Raises:
        Conflict: STALE_REVISION, naming who saved in between and when.
    """
    rows = Workflow.objects.filter(id=workflow.id)
    if revision is not None:
        rows = rows.filter(revision=revision)
    if rows.update(revision=F("revision") + 1, updated_by=user, updated_at=timezone.now(), **changes) != 1:
        current = Workflow.objects.select_related("updated_by").get(id=workflow.id)
        raise Conflict(
            "This workflow was changed since you loaded it.",
            code="STALE_REVISION",
            details={
                "current_revision": current.revision,
                "updated_by": current.updated_by.username if current.updated_by else None,
                "updated_at": current.updated_at.isoformat(),
            },
        )
    workflow.refresh_from_db()


def _next_version_number(workflow: Workflow) -> int:
    last = workflow.versions.order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def _check_valid(document: Any, workflow: Workflow | None = None, user: User | None = None) -> None:
    issues = document_issues(document, workflow, user)
    if issues:
        raise ApiError(
            f"The workflow has {len(issues)} problem(s); fix them first.",
            code="WORKFLOW_INVALID",
            details=[i.as_dict() for i in issues],
        )


@transaction.atomic
def workflow_publish(*, workflow: Workflow, user: User, note: str = "") -> WorkflowVersion:
    """Freeze the draft as a new immutable version, live at once or after a review.

    When the workflow's policy has ``publish_review`` on, the version is stored unpublished with
    a pending review (``version.review``) that another builder decides (see reviews.py).

    Raises:
        ApiError: WORKFLOW_INVALID with the issues when the draft does not validate.
    """
    workflow = Workflow.objects.select_for_update().get(id=workflow.id)
    _check_valid(workflow.draft, workflow, user)
    policy_check_publish(workflow=workflow, document=workflow.draft)
    needs_review = reviews.publish_review_required(workflow=workflow)
    version = WorkflowVersion.objects.create(
        workflow=workflow,
        number=_next_version_number(workflow),
        document=workflow.draft,
        document_hash=document_hash(workflow.draft),
        published=not needs_review,
        note=note,
        created_by=user,
    )
    if needs_review:
        reviews.review_request(workflow=workflow, version=version, user=user)
        return version
    reviews.reviews_supersede(workflow=workflow)
    audit_record(actor=user, action="workflow.publish", target=workflow, data={"version": version.number})
    return version


@transaction.atomic
def workflow_snapshot_draft(*, workflow: Workflow, user: User) -> WorkflowVersion:
    """An immutable copy of the draft for a test run; reuses an identical earlier copy."""
    workflow = Workflow.objects.select_for_update().get(id=workflow.id)
    _check_valid(workflow.draft, workflow, user)
    digest = document_hash(workflow.draft)
    existing = workflow.versions.filter(document_hash=digest).order_by("-number").first()
    if existing is not None:
        return existing
    return WorkflowVersion.objects.create(
        workflow=workflow,
        number=_next_version_number(workflow),
        document=workflow.draft,
        document_hash=digest,
        published=False,
        note="Test run of the draft",
        created_by=user,
    )


@transaction.atomic
def workflow_delete(*, workflow: Workflow, user: User) -> None:
    """Delete the workflow with its versions and runs.

    Raises:
        Conflict: WORKFLOW_IN_USE when a run waits on an unfinished child run of it, or a
            published version of another workflow calls it (sub-workflow, loop, agent tool);
            ``details.callers`` names them (`subruns.workflow_callers`).
    """
    import functools

    from backend.runs.models import Run
    from backend.runs.subruns import subruns_wake_node, workflow_callers  # runs builds on workflows

    workflow = Workflow.objects.select_for_update().get(id=workflow.id)
    callers = workflow_callers(workflow=workflow)
    if callers:
        names = ", ".join(sorted({f"'{c['workflow']}'" for c in callers}))
        raise Conflict(
            f"Other workflows still call this one ({names}): change or unpublish them, or wait "
            "for their runs to end, first.",
            code="WORKFLOW_IN_USE",
            details={"callers": callers},
        )
    # Parents of its (finished) child runs re-check their children: a deleted one fails the step.
    parents = set(
        Run.objects.filter(workflow_id=workflow.id, parent_run__isnull=False).values_list(
            "parent_run_id", "parent_node_id"
        )
    )
    audit_record(actor=user, action="workflow.delete", target=workflow, data={"name": workflow.name})
    workflow.delete()
    for parent_id, node_id in parents:
        transaction.on_commit(functools.partial(subruns_wake_node, run_id=parent_id, node_id=node_id))
