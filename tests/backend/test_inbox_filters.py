"""Inbox filters and counts (due soon, mine, queue), the review context block and the
``fields_schema`` form of ``human.approval`` (typed edits, 400 FIELDS_INVALID)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.approvals.models import Approval, Queue
from backend.runs.models import Run, StepRun
from tests.backend.test_approvals_review import decide, make_workflow, start_waiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def three(personas, support_workflow) -> list[Approval]:
    """Three pending Support items: due in 2 h, due in 3 days, no deadline."""
    items = [start_waiting(support_workflow, personas["alice"]) for _ in range(3)]
    now = timezone.now()
    Approval.objects.filter(id=items[0].id).update(due_at=now + timedelta(hours=2))
    Approval.objects.filter(id=items[1].id).update(due_at=now + timedelta(days=3))
    return items


def test_due_soon_mine_and_queue_filters(personas, client_for, three, settings):
    rey = client_for("rey")
    assert sorted(ids(rey.get("/api/approvals/?due_soon=1"))) == [three[0].id]
    settings.BATON_DUE_SOON_HOURS = 100
    assert sorted(ids(rey.get("/api/approvals/?due_soon=1"))) == sorted([three[0].id, three[1].id])
    # Overdue counts as due soon.
    Approval.objects.filter(id=three[2].id).update(due_at=timezone.now() - timedelta(hours=1))
    settings.BATON_DUE_SOON_HOURS = 24
    assert sorted(ids(rey.get("/api/approvals/?due_soon=1"))) == sorted([three[0].id, three[2].id])

    assert ids(rey.get("/api/approvals/?mine=1")) == []
    assert rey.post(f"/api/approvals/{three[1].id}/claim/").status_code == 200
    assert ids(rey.get("/api/approvals/?mine=1")) == [three[1].id]
    assert ids(rey.get("/api/approvals/?mine=1&due_soon=1")) == []
    assert ids(rey.get("/api/approvals/?queue=Billing")) == []
    assert len(ids(rey.get("/api/approvals/?queue=Support"))) == 3
    assert rey.get("/api/approvals/?mine=maybe").json()["error"]["code"] == "BAD_REQUEST"


def test_counts_per_visible_queue(personas, client_for, three):
    rey, otto, admin = client_for("rey"), client_for("otto"), client_for("admin")
    rey.post(f"/api/approvals/{three[2].id}/claim/")
    counts = rey.get("/api/approvals/?status=decided").json()["counts"]
    assert {k: counts[k] for k in ("pending", "due_soon", "mine")} == {"pending": 3, "due_soon": 1, "mine": 1}
    assert counts["queues"] == [{"queue": "Support", "pending": 3, "due_soon": 1, "mine": 1}]
    # otto reviews Billing only: nothing of Support leaks into his counts.
    assert otto.get("/api/approvals/").json()["counts"]["queues"] == [
        {"queue": "Billing", "pending": 0, "due_soon": 0, "mine": 0}
    ]
    admin_counts = admin.get("/api/approvals/").json()["counts"]
    assert admin_counts["pending"] == 3
    assert admin_counts["mine"] == 0
    assert {q["queue"] for q in admin_counts["queues"]} >= {"Support", "Billing"}


def test_release_drops_my_claim_only(personas, client_for, three):
    rey, admin = client_for("rey"), client_for("admin")
    rey.post(f"/api/approvals/{three[0].id}/claim/")
    assert admin.post(f"/api/approvals/{three[0].id}/release/").json()["claimed_by"] == "rey"
    assert rey.post(f"/api/approvals/{three[0].id}/release/").json()["claimed_by"] is None
    assert admin.post(f"/api/approvals/{three[0].id}/claim/").json()["claimed_by"] == "admin"


def test_detail_shows_the_context_that_produced_the_draft(personas, client_for, support_workflow):
    approval = start_waiting(support_workflow, personas["alice"])
    StepRun.objects.filter(run_id=approval.run_id, node_id="classify").update(
        output={
            "category": "refund",
            "passages": [{"text": "Refunds take 5 days.", "source": "faq.md", "score": 0.9}],
        },
        meta={"model": "demo", "cost_usd": 0.25},
    )
    StepRun.objects.filter(run_id=approval.run_id, node_id="draft").update(
        meta={"model": "demo-large", "cost_usd": 0.5, "tokens_in": 10, "tokens_out": 20}
    )
    body = client_for("rey").get(f"/api/approvals/{approval.id}/").json()
    ctx = body["run_context"]
    assert ctx["trigger"]["subject"] == "Refund for order 1234"
    steps = {s["node_id"]: s for s in ctx["steps"]}
    assert "review" not in steps  # the item itself is not an earlier step
    assert "trigger" not in steps  # its output is the trigger input, shown apart
    assert steps["draft"]["label"] == "Draft reply"
    assert steps["draft"]["type"] == "llm.prompt"
    assert steps["draft"]["model"] == "demo-large"
    assert steps["draft"]["cost_usd"] == 0.5
    assert steps["draft"]["tokens_out"] == 20
    assert "refund" in steps["classify"]["summary"]
    assert ctx["passages"] == [{"source": "faq.md", "text": "Refunds take 5 days.", "score": 0.9}]
    assert ctx["cost_usd"] == 0.75
    assert body["fields_schema"] is None
    assert Run.objects.get(id=approval.run_id).status == "waiting"


SCHEMA = {
    "type": "object",
    "properties": {
        "reply": {"type": "string", "title": "Reply", "maxLength": 2000},
        "urgent": {"type": "boolean", "title": "Urgent"},
        "score": {"type": "integer", "minimum": 1, "maximum": 5},
        "tone": {"type": "string", "enum": ["warm", "formal"]},
    },
}


@pytest.fixture
def schema_item(personas, support_workflow) -> Approval:
    fields = {"reply": "{{ steps.draft.text }}", "urgent": "false", "score": "3", "tone": "warm"}
    workflow = make_workflow(personas["alice"], name="Typed review", fields=fields, fields_schema=SCHEMA)
    return start_waiting(workflow, personas["alice"])


def test_fields_schema_reaches_the_reviewer(client_for, schema_item):
    body = client_for("rey").get(f"/api/approvals/{schema_item.id}/").json()
    assert body["fields_schema"] == SCHEMA
    assert body["fields"]["score"] == "3"


@pytest.mark.parametrize(
    ("edited", "field"),
    [
        ({"urgent": "yes"}, "urgent"),
        ({"score": 9}, "score"),
        ({"score": 2.5}, "score"),
        ({"tone": "rude"}, "tone"),
        ({"reply": "x" * 2001}, "reply"),
        ({"reply": 5}, "reply"),
    ],
)
def test_edits_must_match_the_fields_schema(client_for, schema_item, captured, edited, field):
    response = decide(client_for("rey"), schema_item, captured, decision="approve", edited=edited)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "FIELDS_INVALID"
    assert response.json()["error"]["details"][0]["field"] == field
    assert Approval.objects.get(id=schema_item.id).status == "pending"


def test_typed_edits_are_stored_and_reach_the_node(client_for, schema_item, captured):
    response = decide(
        client_for("rey"),
        schema_item,
        captured,
        decision="approve",
        edited={"urgent": True, "score": 3, "tone": "formal"},
    )
    assert response.status_code == 200, response.content
    # score 3 equals the draft "3": not an edit.
    assert response.json()["edited"] == {"urgent": True, "tone": "formal"}
    values = StepRun.objects.get(run_id=schema_item.run_id, node_id="review").output["values"]
    assert values["urgent"] is True
    assert values["tone"] == "formal"
    assert values["score"] == "3"


def test_a_bad_fields_schema_is_refused_at_publish(personas):
    from backend.common.errors import ApiError

    with pytest.raises(ApiError):
        make_workflow(
            personas["alice"], name="Bad", fields_schema={"properties": {"nope": {"type": "string"}}}
        )
    assert not Queue.objects.filter(name="nope").exists()
