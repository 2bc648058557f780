"""``GET /api/approvals/stats/`` on fixed data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.approvals.models import Approval, Queue
from tests.backend.test_approvals_review import start_waiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(personas, support_workflow):
    run_approval = start_waiting(support_workflow, personas["alice"])  # stays pending: not counted
    now = timezone.now()
    support, billing = Queue.objects.get(name="Support"), Queue.objects.get(name="Billing")
    rows = [
        (support, "approved", {"reply": "x"}, 60, 1),
        (support, "approved", None, 120, 2),
        (support, "rejected", None, 180, 3),
        (support, "changes_requested", None, 240, 4),
        (support, "timed_out", None, 999, 1),  # not a human decision
        (support, "approved", None, 5, 40 * 24 * 3600),  # outside 30 days
        (billing, "approved", {"reply": "y"}, 30, 5),
    ]
    for i, (queue, status, edited, took, ago) in enumerate(rows):
        a = Approval.objects.create(
            run=run_approval.run,
            node_id=f"n{i}",
            key=f"k{i}",
            queue=queue,
            title="t",
            payload_hash="h",
            status=status,
            edited=edited,
        )
        decided_at = now - timedelta(seconds=ago)
        Approval.objects.filter(id=a.id).update(
            created_at=decided_at - timedelta(seconds=took), decided_at=decided_at
        )
    return support_workflow


def test_stats_per_queue_and_workflow(client_for, decided):
    body = client_for("admin").get("/api/approvals/stats/").json()
    assert body["days"] == 30
    queues = {q["queue"]: q for q in body["queues"]}
    assert queues["Support"] == {
        "queue": "Support",
        "decided": 4,
        "approved": 2,
        "approval_rate": 0.5,
        "edit_rate": 0.5,
        "median_seconds": 150.0,
        "p90_seconds": 240.0,
    }
    assert queues["Billing"]["decided"] == 1
    assert queues["Billing"]["edit_rate"] == 1.0
    [workflow] = body["workflows"]
    assert workflow["workflow"] == {"id": decided.id, "name": decided.name}
    assert (workflow["decided"], workflow["approved"], workflow["approval_rate"]) == (5, 3, 0.6)
    assert workflow["median_seconds"] == 120.0


def test_stats_filters_and_visibility(client_for, decided):
    rey = client_for("rey").get("/api/approvals/stats/").json()
    assert [q["queue"] for q in rey["queues"]] == ["Support"]
    only_billing = client_for("admin").get("/api/approvals/stats/?queue=Billing").json()
    assert [q["queue"] for q in only_billing["queues"]] == ["Billing"]
    longer = client_for("admin").get("/api/approvals/stats/?days=60&queue=Support").json()
    assert longer["queues"][0]["decided"] == 5
    assert client_for("admin").get(f"/api/approvals/stats/?workflow={decided.id + 99}").json()["queues"] == []
    assert client_for("vic").get("/api/approvals/stats/").json() == {
        "days": 30,
        "queues": [],
        "workflows": [],
    }
    for bad in ("days=0", "days=400", "days=x", "workflow=abc"):
        response = client_for("admin").get(f"/api/approvals/stats/?{bad}")
        assert response.status_code == 400, bad
