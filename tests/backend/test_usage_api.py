"""``GET /api/usage/``: LLM tokens and cost from the steps' meta, over visible runs only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.runs.models import Run, StepRun
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from tests.backend.conftest import load_fixture


def _run(workflow, user, *, days_ago=0, steps=()):
    run = Run.objects.create(
        workflow=workflow,
        version=workflow_published_version(workflow=workflow),
        started_by=user,
        status=Run.Status.SUCCEEDED,
    )
    Run.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(days=days_ago))
    for i, meta in enumerate(steps):
        StepRun.objects.create(run=run, node_id=f"n{i}", status="succeeded", meta=meta)
    return run


def _llm(model, tokens_in, tokens_out, cost):
    return {"model": model, "tokens_in": tokens_in, "tokens_out": tokens_out, "cost_usd": cost, "reason": "x"}


@pytest.fixture
def seeded(personas, support_workflow):
    alice, bob = personas["alice"], personas["bob"]
    bobs = workflow_create(user=bob, name="Bob's flow", document=load_fixture("support_reply.json"))
    workflow_publish(workflow=bobs, user=bob, note="v1")
    _run(support_workflow, alice, steps=[_llm("gpt-4o-mini", 100, 20, 0.0001), _llm("demo", 10, 5, 0.0), {}])
    _run(support_workflow, alice, days_ago=2, steps=[_llm("gpt-4o-mini", 200, 40, 0.0002)])
    _run(support_workflow, alice, days_ago=40, steps=[_llm("gpt-4o-mini", 999, 999, 9.0)])  # too old
    _run(bobs, bob, steps=[_llm("gpt-4o", 1000, 100, 0.01)])
    return {"bobs": bobs}


def test_by_model_for_the_owner_sees_only_visible_runs(client_for, seeded):
    response = client_for("alice").get("/api/usage/?group_by=model")
    assert response.status_code == 200
    body = response.json()
    assert body["group_by"] == "model"
    assert body["days"] == 30
    assert body["rows"] == [
        {
            "key": "gpt-4o-mini",
            "label": "gpt-4o-mini",
            "runs": 2,
            "steps": 2,
            "tokens_in": 300,
            "tokens_out": 60,
            "cost_usd": 0.0003,
        },
        {
            "key": "demo",
            "label": "demo",
            "runs": 1,
            "steps": 1,
            "tokens_in": 10,
            "tokens_out": 5,
            "cost_usd": 0.0,
        },
    ]
    assert body["totals"] == {"runs": 2, "steps": 3, "tokens_in": 310, "tokens_out": 65, "cost_usd": 0.0003}


def test_admin_by_workflow_and_user(client_for, seeded, personas, support_workflow):
    body = client_for("admin").get("/api/usage/?group_by=workflow").json()
    assert [(r["key"], r["label"], r["runs"], r["cost_usd"]) for r in body["rows"]] == [
        (str(seeded["bobs"].id), "Bob's flow", 1, 0.01),
        (str(support_workflow.id), "Reply to a customer email", 2, 0.0003),
    ]
    assert body["totals"]["cost_usd"] == pytest.approx(0.0103)
    users = client_for("admin").get("/api/usage/?group_by=user").json()["rows"]
    assert [(r["label"], r["tokens_in"]) for r in users] == [("bob", 1000), ("alice", 310)]
    assert users[0]["key"] == str(personas["bob"].id)


def test_by_day_days_and_workflow_filters(client_for, seeded, support_workflow):
    body = client_for("admin").get(f"/api/usage/?days=30&workflow={support_workflow.id}").json()
    today = timezone.now().date()
    assert [(r["key"], r["steps"]) for r in body["rows"]] == [
        (str(today - timedelta(days=2)), 1),
        (str(today), 2),
    ]
    older = client_for("admin").get(f"/api/usage/?days=60&workflow={support_workflow.id}").json()
    assert older["totals"]["tokens_in"] == 310 + 999
    assert client_for("admin").get("/api/usage/?days=1").json()["totals"]["runs"] == 2


def test_invisible_workflow_filter_and_viewer_get_nothing(client_for, seeded):
    body = client_for("alice").get(f"/api/usage/?workflow={seeded['bobs'].id}").json()
    assert body["rows"] == []
    assert body["totals"] == {
        "runs": 0,
        "steps": 0,
        "tokens_in": 0,
        "tokens_out": 0,
        "cost_usd": 0.0,
    }
    assert client_for("vic").get("/api/usage/").json()["rows"] == []


@pytest.mark.parametrize("query", ["group_by=week", "days=0", "days=999", "days=abc", "workflow=x"])
def test_bad_parameters_are_400(client_for, personas, query):
    response = client_for("alice").get(f"/api/usage/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"
    assert response.json()["error"]["details"][0]["field"] in {"group_by", "days", "workflow"}
