"""Publish review: when the policy asks for it, a published version waits for a second builder.

``workflow_publish`` (services.py) calls `publish_review_required`; when it is on, the new
version is stored unpublished with a pending `VersionReview`. Someone other than the author who
may edit the workflow (a builder or an admin) approves it (the version goes live) or rejects it
(the previous version stays live). Every step is audited.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.common.errors import Conflict, Forbidden, NotFound
from backend.workflows.models import VersionReview, Workflow, WorkflowVersion
from backend.workflows.selectors import (
    workflow_list_for_user,
    workflow_permission,
    workflow_published_number,
)

DECISIONS = ("approve", "reject")


def publish_review_required(*, workflow: Workflow) -> bool:
    """True when the effective policy of ``workflow`` has ``publish_review`` on."""
    # Imported here: the policies app points at workflows, not the other way round.
    from backend.policies.selectors import effective_policy

    _run_policy, extras = effective_policy(workflow)
    return extras.publish_review


# --- selectors ---------------------------------------------------------------------------------


def review_list_for_user(*, user: User, status: str | None = None) -> QuerySet[VersionReview]:
    """Reviews of the workflows the user can see, newest first (``status`` filters)."""
    qs = VersionReview.objects.select_related("workflow", "version", "requested_by", "decided_by").filter(
        workflow__in=workflow_list_for_user(user=user).values("id")
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def review_get_for_user(*, review_id: Any, user: User) -> VersionReview:
    """The review if the user can see its workflow.

    Raises:
        NotFound: missing, or its workflow is invisible to the user.
    """
    try:
        review = VersionReview.objects.select_related(
            "workflow", "version", "requested_by", "decided_by"
        ).get(id=int(review_id))
    except (VersionReview.DoesNotExist, ValueError, TypeError):
        raise NotFound("Review not found.") from None
    if workflow_permission(workflow=review.workflow, user=user) is None:
        raise NotFound("Review not found.")
    return review


def review_can_decide(*, review: VersionReview, user: User) -> bool:
    return (
        review.status == VersionReview.Status.PENDING
        and review.requested_by_id != user.id
        and user.can_build
        and workflow_permission(workflow=review.workflow, user=user) == "edit"
    )


# --- services ----------------------------------------------------------------------------------


def review_request(*, workflow: Workflow, version: WorkflowVersion, user: User) -> VersionReview:
    """Ask for a review of ``version`` (stored unpublished). Must run inside the publish transaction.

    An earlier pending review of the same workflow is superseded: only the newest request counts.
    """
    superseded = list(
        workflow.version_reviews.filter(status=VersionReview.Status.PENDING).values_list(
            "version__number", flat=True
        )
    )
    workflow.version_reviews.filter(status=VersionReview.Status.PENDING).update(
        status=VersionReview.Status.SUPERSEDED, decided_at=timezone.now()
    )
    review = VersionReview.objects.create(
        workflow=workflow,
        version=version,
        base_number=workflow_published_number(workflow=workflow),
        requested_by=user,
    )
    audit_record(
        actor=user,
        action="workflow.publish_requested",
        target=workflow,
        data={"version": version.number, "review": review.id, "superseded": superseded},
    )
    return review


def reviews_supersede(*, workflow: Workflow) -> None:
    """A version went live without review: pending requests are out of date."""
    workflow.version_reviews.filter(status=VersionReview.Status.PENDING).update(
        status=VersionReview.Status.SUPERSEDED, decided_at=timezone.now()
    )


@transaction.atomic
def review_decide(*, review: VersionReview, user: User, decision: str, comment: str = "") -> VersionReview:
    """Approve (the version goes live) or reject (the previous version stays live).

    Raises:
        Forbidden: FOUR_EYES for the author; PERMISSION_DENIED without edit access to the workflow.
        Conflict: REVIEW_DECIDED when it was decided (or superseded) already.
    """
    if decision not in DECISIONS:
        raise ValueError(decision)
    if not user.can_build or workflow_permission(workflow=review.workflow, user=user) != "edit":
        raise Forbidden("Only builders who may edit this workflow review its versions.")
    if review.requested_by_id == user.id:
        raise Forbidden(
            "You published this version, so someone else must approve it (four eyes).", code="FOUR_EYES"
        )
    status = VersionReview.Status.APPROVED if decision == "approve" else VersionReview.Status.REJECTED
    now = timezone.now()
    won = VersionReview.objects.filter(id=review.id, status=VersionReview.Status.PENDING).update(
        status=status, decided_by=user, decided_at=now, comment=comment
    )
    if won != 1:
        current = VersionReview.objects.select_related("decided_by").get(id=review.id)
        raise Conflict(
            f"This version review is already {current.status}.",
            code="REVIEW_DECIDED",
            details={
                "status": current.status,
                "decided_by": current.decided_by.username if current.decided_by else None,
            },
        )
    if status == VersionReview.Status.APPROVED:
        WorkflowVersion.objects.filter(id=review.version_id).update(published=True)
    audit_record(
        actor=user,
        action="workflow.publish_approved" if decision == "approve" else "workflow.publish_rejected",
        target=review.workflow,
        data={"version": review.version.number, "review": review.id, "comment": comment[:500]},
    )
    review.refresh_from_db()
    return review
