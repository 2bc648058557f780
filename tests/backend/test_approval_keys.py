"""Approval keys: one inbox item per (run, node, approval_key); long keys never collide."""

from __future__ import annotations

import pytest

from backend.approvals.models import Approval
from backend.approvals.services import approval_open
from backend.runs.models import Run
from backend.workflows.selectors import workflow_published_version

pytestmark = pytest.mark.django_db


def test_long_approval_keys_that_share_a_prefix_get_their_own_items(personas, support_workflow):
    run = Run.objects.create(
        workflow=support_workflow,
        version=workflow_published_version(workflow=support_workflow),
        started_by=personas["alice"],
        status=Run.Status.WAITING,
    )
    prefix = "tool-call-" + "x" * 60
    first = approval_open(
        run_id=run.id, node_id="agent", request={"approval_key": prefix + "-1", "title": "A"}
    )
    second = approval_open(
        run_id=run.id, node_id="agent", request={"approval_key": prefix + "-2", "title": "B"}
    )
    assert first.id != second.id
    again = approval_open(
        run_id=run.id, node_id="agent", request={"approval_key": prefix + "-1", "title": "A"}
    )
    assert again.id == first.id
    short = approval_open(run_id=run.id, node_id="agent", request={"approval_key": "round-2-review"})
    assert short.key == f"{run.id}:agent:round-2-review"
    assert Approval.objects.filter(run=run).count() == 3
